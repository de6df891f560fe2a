from shop.text import first_long_word, initials, slugify


def test_slugify():
    assert slugify("Fresh  Green Apples") == "fresh-green-apples"
    assert slugify("Figs & Dates") == "figs-dates"


def test_first_long_word():
    assert first_long_word("a tiny elephant") == "elephant"


def test_initials():
    assert initials("ada lovelace") == "AL"
