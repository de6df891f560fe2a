from shop.pricing import discount_percent, subtotal, to_cents, total


def test_subtotal_skips_empty_lines():
    assert subtotal([(2, 3.0), (0, 99.0), (1, 4.0)]) == 10.0


def test_discount_tiers():
    assert discount_percent(50) == 0
    assert discount_percent(150) == 5
    assert discount_percent(1000) == 10


def test_total_applies_discount():
    assert total([(10, 20.0)]) == 190.0


def test_to_cents():
    assert to_cents(1.25) == 125
