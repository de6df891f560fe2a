import unittest

import pytest

from shop.inventory import Inventory, OutOfStock, restock_rounds


def test_add_and_remove():
    inv = Inventory()
    inv.add("apple", 3)
    inv.remove("apple", 2)
    assert inv.items == {"apple": 1}


def test_remove_last_deletes_the_item():
    inv = Inventory()
    inv.add("pear")
    inv.remove("pear")
    assert "pear" not in inv.items


def test_remove_too_many():
    inv = Inventory()
    with pytest.raises(OutOfStock):
        inv.remove("plum")


def test_restock_rounds():
    assert restock_rounds(10, 4) == 3


class LowStockTest(unittest.TestCase):
    def test_low_stock(self):
        inv = Inventory()
        inv.add("fig", 1)
        inv.add("kiwi", 5)
        self.assertEqual(inv.low_stock(), ["fig"])

    def test_try_remove(self):
        inv = Inventory()
        self.assertFalse(inv.try_remove("lime"))
