from shop.config import CENT


def subtotal(lines):
    """Sum of quantity x unit price over (qty, price) lines."""
    total = 0
    for qty, price in lines:
        if qty <= 0:
            continue
        total += qty * price
    return total


def tiers():
    """(amount reached, percent off), lowest first."""
    return [(100, 5), (500, 10)]


def discount_percent(amount):
    """The discount tier an amount reaches."""
    percent = 0
    for limit, tier in tiers():
        if amount >= limit:
            percent = tier
    return percent


def total(lines):
    amount = subtotal(lines)
    return round(amount * (100 - discount_percent(amount)) / 100, 2)


def to_cents(amount):
    return int(round(amount / CENT))


def legacy_total(lines):
    # Kept for old callers; no test reaches it.
    return sum(q * p for q, p in lines) * 1.0
