/**
 * A small HumanEval-style problem set (prompt + canonical_solution + test +
 * entry_point, one MBPP-style `code` record) for the demo and tests. Each line
 * is one JSON record, as a dataset file would hold it.
 */
const records = [
  {
    task_id: 'sample/0',
    prompt: 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
    canonical_solution: '    return a + b\n',
    test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n',
    entry_point: 'add',
  },
  {
    task_id: 'sample/1',
    prompt: 'def is_palindrome(text: str) -> bool:\n    """Return True if text reads the same backwards."""\n',
    canonical_solution: '    return text == text[::-1]\n',
    test: "def check(candidate):\n    assert candidate('abba') is True\n    assert candidate('abc') is False\n",
    entry_point: 'is_palindrome',
  },
  {
    task_id: 'sample/2',
    prompt: 'def count_vowels(text: str) -> int:\n    """Count the vowels (a, e, i, o, u, either case) in text."""\n',
    canonical_solution: "    return sum(1 for ch in text.lower() if ch in 'aeiou')\n",
    test: "def check(candidate):\n    assert candidate('Hello') == 2\n    assert candidate('xyz') == 0\n",
    entry_point: 'count_vowels',
  },
  {
    task_id: 'sample/3',
    prompt: 'def running_max(numbers: list[int]) -> list[int]:\n    """Return the running maximum of numbers."""\n',
    canonical_solution:
      '    result = []\n    best = None\n    for n in numbers:\n        best = n if best is None else max(best, n)\n        result.append(best)\n    return result\n',
    test: 'def check(candidate):\n    assert candidate([1, 3, 2, 5]) == [1, 3, 3, 5]\n    assert candidate([]) == []\n',
    entry_point: 'running_max',
  },
  {
    task_id: 'sample/4',
    prompt: 'def reverse_words(sentence: str) -> str:\n    """Reverse the order of the words in sentence."""\n',
    canonical_solution: "    return ' '.join(reversed(sentence.split()))\n",
    test: "def check(candidate):\n    assert candidate('a b c') == 'c b a'\n    assert candidate('one') == 'one'\n",
    entry_point: 'reverse_words',
  },
  {
    task_id: 'sample/5',
    prompt: 'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number, fib(0) == 0."""\n',
    canonical_solution: '    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
    test: 'def check(candidate):\n    assert candidate(0) == 0\n    assert candidate(10) == 55\n',
    entry_point: 'fib',
  },
  {
    task_id: 'sample/6',
    prompt: 'def pair_sums(pairs: list[tuple[int, int]]) -> tuple[int, ...]:\n    """Sum each pair."""\n',
    canonical_solution: '    return tuple(a + b for a, b in pairs)\n',
    test: 'def check(candidate):\n    assert candidate([(1, 2), (3, 4)]) == (3, 7)\n',
    entry_point: 'pair_sums',
  },
  {
    task_id: 'sample/7',
    prompt:
      'def first_repeated(items: list[str]) -> str | None:\n    """Return the first item seen twice, or None."""\n',
    canonical_solution:
      '    seen = set()\n    for item in items:\n        if item in seen:\n            return item\n        seen.add(item)\n    return None\n',
    test: "def check(candidate):\n    assert candidate(['a', 'b', 'a']) == 'a'\n    assert candidate(['a']) is None\n",
    entry_point: 'first_repeated',
  },
  {
    task_id: 'sample/8',
    text: 'Write a function to find the minimum of three numbers.',
    code: 'def min_of_three(a, b, c):\n    return min(a, b, c)\n',
    test_list: ['assert min_of_three(3, 1, 2) == 1', 'assert min_of_three(0, 0, 0) == 0'],
    entry_point: 'min_of_three',
  },
  {
    task_id: 'sample/9',
    prompt: 'def mean(values: list[float]) -> float:\n    """Return the arithmetic mean of values (non-empty)."""\n',
    canonical_solution: '    return sum(values) / len(values)\n',
    test: 'def check(candidate):\n    assert candidate([1.0, 2.0, 3.0]) == 2.0\n',
    entry_point: 'mean',
  },
];

export const sampleProblemsJsonl = `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
