class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, qty=1):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.items[name] = self.items.get(name, 0) + qty

    def remove(self, name, qty=1):
        have = self.items.get(name, 0)
        if have < qty:
            raise OutOfStock(name)
        self.items[name] = have - qty
        if self.items[name] == 0:
            del self.items[name]

    def low_stock(self, threshold=2):
        return sorted(name for name, qty in self.items.items() if qty < threshold)

    def try_remove(self, name):
        try:
            self.remove(name)
            return True
        except OutOfStock:
            return False


def restock_rounds(missing, per_round):
    """How many deliveries of `per_round` items cover `missing` items."""
    rounds = 0
    while missing > 0:
        missing -= per_round
        rounds += 1
    return rounds
