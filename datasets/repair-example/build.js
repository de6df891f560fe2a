// Writes datasets/repair-example.jsonl from the bugs below (run: node datasets/repair-example/build.js).
// Each bug is ours: a small module with one buggy function, its pytest tests, and the fixed function
// (`fix`, not part of the native format: the fake provider and the tests use it). The native format's
// fields are bug_id, files, test_files, failing_tests, traceback (optional) and category.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const d = (s) => s.replace(/^\n/, '');

const bugs = [
  {
    bug_id: 'strings-slugify-dashes',
    category: 'strings',
    module: 'textkit/slug.py',
    files: { 'textkit/__init__.py': '' },
    buggy: d(`
import re


def slugify(text):
    """Lower-case words joined by single dashes; other characters dropped."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9]", "-", text)
    return text.strip("-")
`),
    fix: d(`
def slugify(text):
    """Lower-case words joined by single dashes; other characters dropped."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return text.strip("-")
`),
    tests: {
      'tests/test_slug.py': d(`
from textkit.slug import slugify


def test_simple():
    assert slugify("Hello") == "hello"


def test_spaces_and_punctuation():
    assert slugify("Hello, World!") == "hello-world"


def test_runs_of_separators():
    assert slugify("a  --  b") == "a-b"
`),
    },
    failing: ['tests/test_slug.py::test_spaces_and_punctuation', 'tests/test_slug.py::test_runs_of_separators'],
  },
  {
    bug_id: 'strings-truncate-ellipsis',
    category: 'strings',
    module: 'textkit.py',
    buggy: d(`
def truncate(text, width):
    """At most \`width\` characters; a cut text ends with '...' (counted in the width)."""
    if len(text) <= width:
        return text
    return text[:width] + "..."
`),
    fix: d(`
def truncate(text, width):
    """At most \`width\` characters; a cut text ends with '...' (counted in the width)."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 3)] + "..."
`),
    tests: {
      'test_textkit.py': d(`
from textkit import truncate


def test_short_text_unchanged():
    assert truncate("abc", 5) == "abc"


def test_cut_text_fits_the_width():
    assert truncate("abcdefghij", 6) == "abc..."
    assert len(truncate("x" * 40, 10)) == 10
`),
    },
    failing: ['test_textkit.py::test_cut_text_fits_the_width'],
  },
  {
    bug_id: 'strings-palindrome-case',
    category: 'strings',
    module: 'words.py',
    buggy: d(`
def is_palindrome(text):
    """True when the letters read the same both ways, ignoring case, spaces and punctuation."""
    letters = [c for c in text if c.isalnum()]
    return letters == letters[::-1]
`),
    fix: d(`
def is_palindrome(text):
    """True when the letters read the same both ways, ignoring case, spaces and punctuation."""
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]
`),
    tests: {
      'test_words.py': d(`
from words import is_palindrome


def test_plain():
    assert is_palindrome("racecar")
    assert not is_palindrome("python")


def test_mixed_case_and_spaces():
    assert is_palindrome("A man, a plan, a canal: Panama")
`),
    },
    failing: ['test_words.py::test_mixed_case_and_spaces'],
  },
  {
    bug_id: 'strings-word-count-whitespace',
    category: 'strings',
    module: 'counting.py',
    buggy: d(`
def word_count(text):
    """Number of words separated by any whitespace."""
    if not text:
        return 0
    return len(text.split(" "))
`),
    fix: d(`
def word_count(text):
    """Number of words separated by any whitespace."""
    return len(text.split())
`),
    tests: {
      'test_counting.py': d(`
from counting import word_count


def test_single_spaces():
    assert word_count("one two three") == 3


def test_empty():
    assert word_count("") == 0


def test_any_whitespace():
    assert word_count("  one\\ttwo\\n three  ") == 3
`),
    },
    failing: ['test_counting.py::test_any_whitespace'],
  },
  {
    bug_id: 'math-mean-integer-division',
    category: 'math',
    module: 'stats.py',
    buggy: d(`
def mean(values):
    """Arithmetic mean of a non-empty list of numbers."""
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) // len(values)
`),
    fix: d(`
def mean(values):
    """Arithmetic mean of a non-empty list of numbers."""
    if not values:
        raise ValueError("mean of nothing")
    return sum(values) / len(values)
`),
    tests: {
      'test_stats.py': d(`
import pytest

from stats import mean


def test_whole():
    assert mean([2, 4, 6]) == 4


def test_fraction():
    assert mean([1, 2]) == 1.5


def test_empty():
    with pytest.raises(ValueError):
        mean([])
`),
    },
    failing: ['test_stats.py::test_fraction'],
  },
  {
    bug_id: 'math-clamp-swapped',
    category: 'math',
    module: 'bounds.py',
    buggy: d(`
def clamp(value, low, high):
    """\`value\` limited to the closed range [low, high]."""
    return max(high, min(low, value))
`),
    fix: d(`
def clamp(value, low, high):
    """\`value\` limited to the closed range [low, high]."""
    return max(low, min(high, value))
`),
    tests: {
      'test_bounds.py': d(`
from bounds import clamp


def test_inside():
    assert clamp(5, 0, 10) == 5


def test_below_and_above():
    assert clamp(-3, 0, 10) == 0
    assert clamp(42, 0, 10) == 10
`),
    },
    failing: ['test_bounds.py::test_inside', 'test_bounds.py::test_below_and_above'],
  },
  {
    bug_id: 'math-is-prime-one',
    category: 'math',
    module: 'primes.py',
    buggy: d(`
def is_prime(n):
    """True for prime numbers."""
    if n < 1:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True
`),
    fix: d(`
def is_prime(n):
    """True for prime numbers."""
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True
`),
    tests: {
      'test_primes.py': d(`
from primes import is_prime


def test_small_primes():
    assert [n for n in range(20) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19]


def test_composites():
    assert not is_prime(91)
`),
    },
    failing: ['test_primes.py::test_small_primes'],
  },
  {
    bug_id: 'math-gcd-loop',
    category: 'math',
    module: 'numbers_util.py',
    buggy: d(`
def gcd(a, b):
    """Greatest common divisor of two non-negative integers."""
    while b:
        a, b = b, a % b
    return b
`),
    fix: d(`
def gcd(a, b):
    """Greatest common divisor of two non-negative integers."""
    while b:
        a, b = b, a % b
    return a
`),
    tests: {
      'test_numbers_util.py': d(`
from numbers_util import gcd


def test_gcd():
    assert gcd(12, 18) == 6
    assert gcd(7, 13) == 1


def test_zero():
    assert gcd(5, 0) == 5
`),
    },
    failing: ['test_numbers_util.py::test_gcd', 'test_numbers_util.py::test_zero'],
  },
  {
    bug_id: 'collections-dedupe-order',
    category: 'collections',
    module: 'listkit.py',
    buggy: d(`
def dedupe(items):
    """Items without repeats, in the order of their first appearance."""
    return list(set(items))
`),
    fix: d(`
def dedupe(items):
    """Items without repeats, in the order of their first appearance."""
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
`),
    tests: {
      'test_listkit.py': d(`
from listkit import dedupe


def test_keeps_first_order():
    assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_descending():
    assert dedupe([5, 4, 5, 3]) == [5, 4, 3]
`),
    },
    failing: ['test_listkit.py::test_keeps_first_order', 'test_listkit.py::test_descending'],
  },
  {
    bug_id: 'collections-chunk-tail',
    category: 'collections',
    module: 'batching.py',
    buggy: d(`
def chunk(items, size):
    """Consecutive lists of \`size\` items; the last one may be shorter."""
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]
`),
    fix: d(`
def chunk(items, size):
    """Consecutive lists of \`size\` items; the last one may be shorter."""
    return [items[i : i + size] for i in range(0, len(items), size)]
`),
    tests: {
      'test_batching.py': d(`
from batching import chunk


def test_even():
    assert chunk([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_tail():
    assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
`),
    },
    failing: ['test_batching.py::test_tail'],
  },
  {
    bug_id: 'collections-merge-mutates',
    category: 'collections',
    module: 'dicts.py',
    buggy: d(`
def merge(base, override):
    """A new dict: \`base\` with the keys of \`override\` on top; neither input changes."""
    base.update(override)
    return base
`),
    fix: d(`
def merge(base, override):
    """A new dict: \`base\` with the keys of \`override\` on top; neither input changes."""
    merged = dict(base)
    merged.update(override)
    return merged
`),
    tests: {
      'test_dicts.py': d(`
from dicts import merge


def test_override_wins():
    assert merge({"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}


def test_inputs_unchanged():
    base = {"a": 1}
    merge(base, {"a": 2})
    assert base == {"a": 1}
`),
    },
    failing: ['test_dicts.py::test_inputs_unchanged'],
  },
  {
    bug_id: 'collections-flatten-depth',
    category: 'collections',
    module: 'nesting.py',
    buggy: d(`
def flatten(items):
    """Every non-list item of arbitrarily nested lists, in order."""
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out
`),
    fix: d(`
def flatten(items):
    """Every non-list item of arbitrarily nested lists, in order."""
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out
`),
    tests: {
      'test_nesting.py': d(`
from nesting import flatten


def test_one_level():
    assert flatten([1, [2, 3], 4]) == [1, 2, 3, 4]


def test_deep():
    assert flatten([1, [2, [3, [4]]]]) == [1, 2, 3, 4]
`),
    },
    failing: ['test_nesting.py::test_deep'],
  },
  {
    bug_id: 'parsing-kv-equals-in-value',
    category: 'parsing',
    module: 'config/kv.py',
    files: { 'config/__init__.py': '' },
    buggy: d(`
def parse_kv(line):
    """'key=value' → (key, value); the value may itself contain '='."""
    key, value = line.split("=")
    return key.strip(), value.strip()
`),
    fix: d(`
def parse_kv(line):
    """'key=value' → (key, value); the value may itself contain '='."""
    key, value = line.split("=", 1)
    return key.strip(), value.strip()
`),
    tests: {
      'tests/test_kv.py': d(`
from config.kv import parse_kv


def test_plain():
    assert parse_kv("name = evalfleet") == ("name", "evalfleet")


def test_equals_in_value():
    assert parse_kv("query=a=b") == ("query", "a=b")
`),
    },
    failing: ['tests/test_kv.py::test_equals_in_value'],
  },
  {
    bug_id: 'parsing-bool-zero',
    category: 'parsing',
    module: 'flags.py',
    buggy: d(`
def parse_bool(text):
    """'1', 'true', 'yes', 'on' → True; '0', 'false', 'no', 'off' → False (any case)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")
`),
    fix: d(`
def parse_bool(text):
    """'1', 'true', 'yes', 'on' → True; '0', 'false', 'no', 'off' → False (any case)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")
`),
    tests: {
      'test_flags.py': d(`
import pytest

from flags import parse_bool


def test_true_words():
    assert parse_bool("Yes") is True


def test_false_words():
    assert parse_bool("off") is False
    assert parse_bool("0") is False


def test_rejects_other_text():
    with pytest.raises(ValueError):
        parse_bool("maybe")
`),
    },
    failing: ['test_flags.py::test_false_words'],
  },
  {
    bug_id: 'parsing-range-inclusive',
    category: 'parsing',
    module: 'ranges.py',
    buggy: d(`
def parse_range(text):
    """'3-5' → [3, 4, 5]; '7' → [7]. Both ends are inclusive."""
    if "-" in text:
        start, end = (int(p) for p in text.split("-"))
        return list(range(start, end))
    return [int(text)]
`),
    fix: d(`
def parse_range(text):
    """'3-5' → [3, 4, 5]; '7' → [7]. Both ends are inclusive."""
    if "-" in text:
        start, end = (int(p) for p in text.split("-"))
        return list(range(start, end + 1))
    return [int(text)]
`),
    tests: {
      'test_ranges.py': d(`
from ranges import parse_range


def test_single():
    assert parse_range("7") == [7]


def test_inclusive_span():
    assert parse_range("3-5") == [3, 4, 5]
`),
    },
    failing: ['test_ranges.py::test_inclusive_span'],
  },
  {
    bug_id: 'algorithms-binary-search-last',
    category: 'algorithms',
    module: 'search.py',
    buggy: d(`
def binary_search(items, target):
    """Index of \`target\` in the sorted list \`items\`, or -1."""
    low, high = 0, len(items) - 1
    while low < high:
        mid = (low + high) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1
`),
    fix: d(`
def binary_search(items, target):
    """Index of \`target\` in the sorted list \`items\`, or -1."""
    low, high = 0, len(items) - 1
    while low <= high:
        mid = (low + high) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1
`),
    tests: {
      'test_search.py': d(`
from search import binary_search


def test_middle():
    assert binary_search([1, 3, 5, 7, 9], 5) == 2


def test_ends():
    assert binary_search([1, 3, 5, 7, 9], 1) == 0
    assert binary_search([1, 3, 5, 7, 9], 9) == 4


def test_missing():
    assert binary_search([1, 3, 5], 4) == -1
`),
    },
    failing: ['test_search.py::test_ends'],
  },
  {
    bug_id: 'algorithms-moving-average-window',
    category: 'algorithms',
    module: 'series.py',
    buggy: d(`
def moving_average(values, window):
    """Means of every run of \`window\` consecutive values."""
    return [sum(values[i : i + window]) / window for i in range(len(values) - window)]
`),
    fix: d(`
def moving_average(values, window):
    """Means of every run of \`window\` consecutive values."""
    return [sum(values[i : i + window]) / window for i in range(len(values) - window + 1)]
`),
    tests: {
      'test_series.py': d(`
from series import moving_average


def test_runs():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]


def test_window_of_everything():
    assert moving_average([2, 4], 2) == [3.0]
`),
    },
    failing: ['test_series.py::test_runs', 'test_series.py::test_window_of_everything'],
  },
  {
    bug_id: 'algorithms-rle-multidigit',
    category: 'algorithms',
    module: 'rle.py',
    buggy: d(`
def rle_encode(text):
    """'aaab' → '3a1b'."""
    out = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        out.append(f"{j - i}{text[i]}")
        i = j
    return "".join(out)


def rle_decode(code):
    """'3a1b' → 'aaab'; counts may have several digits."""
    out = []
    for i in range(0, len(code), 2):
        out.append(code[i + 1] * int(code[i]))
    return "".join(out)
`),
    fix: d(`
def rle_decode(code):
    """'3a1b' → 'aaab'; counts may have several digits."""
    out = []
    count = ""
    for ch in code:
        if ch.isdigit():
            count += ch
        else:
            out.append(ch * int(count))
            count = ""
    return "".join(out)
`),
    tests: {
      'test_rle.py': d(`
from rle import rle_decode, rle_encode


def test_encode():
    assert rle_encode("aaab") == "3a1b"


def test_decode_short():
    assert rle_decode("3a1b") == "aaab"


def test_round_trip_long_runs():
    text = "x" * 12 + "yy"
    assert rle_decode(rle_encode(text)) == text
`),
    },
    failing: ['test_rle.py::test_round_trip_long_runs'],
  },
  {
    bug_id: 'io-units-header',
    category: 'io',
    module: 'units/table.py',
    files: {
      'units/__init__.py': '',
      'units/data/units.csv': 'name,factor\nkm,1000\nm,1\ncm,0.01\n',
    },
    buggy: d(`
import csv
from pathlib import Path

DATA = Path(__file__).parent / "data" / "units.csv"


def load_units(path=DATA):
    """Unit name → factor to metres, from the CSV table (first row is the header)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {name: float(factor) for name, factor in rows}


def to_metres(value, unit):
    return value * load_units()[unit]
`),
    fix: d(`
def load_units(path=DATA):
    """Unit name → factor to metres, from the CSV table (first row is the header)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {name: float(factor) for name, factor in rows[1:]}
`),
    tests: {
      'tests/test_units.py': d(`
from units.table import load_units, to_metres


def test_table():
    assert load_units() == {"km": 1000.0, "m": 1.0, "cm": 0.01}


def test_conversion():
    assert to_metres(3, "km") == 3000.0
`),
    },
    failing: ['tests/test_units.py::test_table', 'tests/test_units.py::test_conversion'],
  },
  {
    bug_id: 'classes-stack-pop',
    category: 'classes',
    module: 'structures.py',
    buggy: d(`
class Stack:
    """Last in, first out."""

    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        """The last pushed item, removed; IndexError when empty."""
        return self._items[-1]

    def __len__(self):
        return len(self._items)
`),
    // The method alone, as a model answers: it replaces Stack.pop in place, indented as a method.
    fix: d(`
def pop(self):
    """The last pushed item, removed; IndexError when empty."""
    return self._items.pop()
`),
    tests: {
      'test_structures.py': d(`
import pytest

from structures import Stack


def test_lifo():
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2
    assert s.pop() == 1


def test_empty():
    with pytest.raises(IndexError):
        Stack().pop()


def test_len():
    s = Stack()
    s.push("a")
    assert len(s) == 1
`),
    },
    failing: ['test_structures.py::test_lifo'],
  },
];

/** The native format's record (and our `fix`): module + support files, tests, failing tests. */
export function records() {
  return bugs.map((b) => ({
    bug_id: b.bug_id,
    category: b.category,
    files: { ...(b.files ?? {}), [b.module]: b.buggy },
    test_files: b.tests,
    failing_tests: b.failing,
    fix: { [b.module]: b.fix },
  }));
}

export function jsonl() {
  return records()
    .map((r) => JSON.stringify(r))
    .join('\n')
    .concat('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL('../repair-example.jsonl', import.meta.url));
  writeFileSync(out, jsonl());
  process.stdout.write(`wrote ${records().length} bugs to ${out}\n`);
}
