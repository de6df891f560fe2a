"""Applying one mutant inside an already imported project: which live functions to re-point, or "re-import".

A mutant is a few whole lines of one source file replaced (the mutator keeps the line count, so every other
line keeps its number). Only the top-level statement that holds the mutant is compiled again, padded with
blank lines so that its code objects carry the same line numbers, names and qualnames as the imported ones.
Comparing that compilation with one of the original statement says which code objects the mutant changes:

- a function's code (or a lambda's, a nested function's): every live function object with that file,
  qualname and first line gets the mutated code (`func.__code__ = ...`), so decorators, bound methods,
  registries and closures made at import time all see it, and functions created later from a changed outer
  function carry the changed inner code;
- constant default values of functions made at import: set on the live functions (efsbx_mutants_defaults);
- any other code that runs at import (module level, class bodies, decorators): only a fresh import of the
  project with the mutated source shows it (`MutatedSource` below), as a direct pytest run would.

Nothing here trusts the project: it runs in the job's process, as the job's uid.
"""

import gc
import importlib.abc
import importlib.machinery
import os
import sys

import efsbx_mutants_defaults as defaults_mod

_CodeType = type(compile("", "", "exec"))
_FunctionType = type(lambda: None)
# Compiler flags a `from __future__ import ...` sets; the padded statement must be compiled with the same.
_FUTURE_FLAGS = 0
for _name in ("annotations", "generator_stop", "barry_as_FLUFL"):
    _feature = getattr(__import__("__future__"), _name, None)
    if _feature is not None:
        _FUTURE_FLAGS |= _feature.compiler_flag


def splice(source, first, last, text):
    """`source` with lines first..last (1-based, inclusive) replaced by `text` (same number of lines)."""
    lines = source.split("\n")
    replacement = text.split("\n")
    if first < 1 or last < first or last > len(lines) or len(replacement) != last - first + 1:
        raise ValueError("mutant lines %d-%d do not fit the file" % (first, last))
    return "\n".join(lines[: first - 1] + replacement + lines[last:])


class SourceFile:
    """One source file of the project: its text, its top-level statements' line spans, its future flags."""

    def __init__(self, path, text):
        self.path = path
        self.text = text
        self.lines = text.split("\n")
        module = compile(text, path, "exec", 0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
        # A decorated definition starts at its first decorator (the AST puts it at `def`/`class`).
        self.spans = [
            (min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())]), node.end_lineno or node.lineno)
            for node in module.body
        ]
        self.flags = 0
        for node in module.body:
            if type(node).__name__ != "ImportFrom" or node.module != "__future__":
                break
            for alias in node.names:
                feature = getattr(__import__("__future__"), alias.name, None)
                self.flags |= feature.compiler_flag if feature is not None else 0
        self._original = {}

    def span_of(self, first, last):
        """The top-level statement span holding lines first..last, or None (outside any statement)."""
        for start, end in self.spans:
            if start <= first and last <= end:
                return start, end
        return None

    def padded(self, lines, start, end):
        return "\n" * (start - 1) + "\n".join(lines[start - 1 : end]) + "\n"

    def compile_span(self, lines, start, end):
        return compile(self.padded(lines, start, end), self.path, "exec", self.flags & _FUTURE_FLAGS, True)

    def original(self, start, end):
        code = self._original.get(start)
        if code is None:
            code = self._original[start] = self.compile_span(self.lines, start, end)
        return code


class Plan:
    """What applying a mutant takes: `swaps` (live functions, mutated code) or `fresh` (re-import), or why not."""

    def __init__(self, swaps=None, fresh=False, error=None, defaults=None):
        self.swaps = swaps or []
        self.fresh = fresh
        self.error = error
        # (live function, __defaults__, __kwdefaults__): a mutant of default values only.
        self.defaults = defaults or []


def plan_mutant(source_file, first, last, text, functions):
    """Compile the mutant's statement and decide how to apply it. `functions`: a FunctionIndex."""
    span = source_file.span_of(first, last)
    if span is None:
        return Plan(fresh=True)
    mutated_lines = splice(source_file.text, first, last, text).split("\n")
    try:
        mutated = source_file.compile_span(mutated_lines, *span)
    except (SyntaxError, ValueError) as exc:
        return Plan(error="%s: %s" % (type(exc).__name__, exc))
    original = source_file.original(*span)
    changed = []
    if not _same_tree(original, mutated, changed, parent_at_import=True):
        return _defaults_plan(source_file, span, mutated_lines, functions)
    swaps = []
    for code, parent_at_import in changed:
        targets = functions.find(source_file.path, code)
        if not targets and parent_at_import:
            # Made at import but not found alive (a comprehension run at import, a function deleted or
            # never imported before the tests): only a fresh import shows the mutant.
            return Plan(fresh=True)
        for func in targets:
            if len(func.__code__.co_freevars) != len(code.co_freevars):
                return Plan(fresh=True)  # the closure would not fit: only a fresh import applies it
        swaps.extend((func, code) for func in targets)
    return Plan(swaps=swaps)


def _defaults_plan(source_file, span, mutated_lines, functions):
    """Import-time code changed: a plan that sets new default values, or a fresh import."""
    found = defaults_mod.changes(
        source_file.path,
        source_file.padded(source_file.lines, *span),
        source_file.padded(mutated_lines, *span),
    )
    if found is None:
        return Plan(fresh=True)
    plan = []
    for qualname, first, defaults, kwdefaults in found:
        targets = functions.functions.get((os.path.realpath(source_file.path), qualname, first), [])
        if not targets:
            return Plan(fresh=True)
        plan.extend((func, defaults, kwdefaults) for func in targets)
    return Plan(defaults=plan)


def _shallow(code):
    """What one level of a code object does, without its nested code objects and without positions: a
    mutant keeps every line, but a statement's end column moves (`return x` -> `return None`) and that is
    no change to the code that defines it."""
    consts = tuple(c if type(c) is not _CodeType else None for c in code.co_consts)
    return (
        code.co_code,
        consts,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_flags,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_exceptiontable,
    )


def _runs_at_import(code):
    # Module and class bodies run when the module is imported; function bodies when they are called.
    return not (code.co_flags & 0x2)  # CO_NEWLOCALS: functions, lambdas, comprehensions


def _same_tree(original, mutated, changed, parent_at_import, top=True):
    """Walk both trees in step. False when code that runs at import differs (or the shapes differ);
    otherwise every differing function-level code object of `mutated` is appended to `changed`, with
    whether the code that makes its functions runs at import."""
    if original.co_qualname != mutated.co_qualname or original.co_firstlineno != mutated.co_firstlineno:
        return False
    nested_o = [c for c in original.co_consts if type(c) is _CodeType]
    nested_m = [c for c in mutated.co_consts if type(c) is _CodeType]
    if len(nested_o) != len(nested_m):
        return False
    differs = _shallow(original) != _shallow(mutated)
    if differs and (top or _runs_at_import(mutated)):
        return False
    inner = []
    for o, m in zip(nested_o, nested_m):
        if not _same_tree(o, m, inner, _runs_at_import(mutated), top=False):
            return False
    if differs or inner:
        if not _runs_at_import(mutated):
            changed.append((mutated, parent_at_import))
        changed.extend(inner)
    return True


class FunctionIndex:
    """Every live function of the project's source files, by (file, qualname, first line)."""

    def __init__(self, paths):
        wanted = {os.path.realpath(p) for p in paths}
        real = {}
        self.functions = {}
        for obj in gc.get_objects():
            if type(obj) is not _FunctionType:
                continue
            code = obj.__code__
            name = code.co_filename
            path = real.get(name)
            if path is None:
                path = real[name] = os.path.realpath(name) if os.path.isabs(name) else ""
            if path in wanted:
                self.functions.setdefault((path, code.co_qualname, code.co_firstlineno), []).append(obj)

    def find(self, path, code):
        return self.functions.get((os.path.realpath(path), code.co_qualname, code.co_firstlineno), [])


def apply_swaps(plan):
    for func, code in plan.swaps:
        func.__code__ = code
    for func, defaults, kwdefaults in plan.defaults:
        func.__defaults__ = defaults
        func.__kwdefaults__ = kwdefaults


class MutatedSource(importlib.abc.MetaPathFinder):
    """Serves one module's mutated source wherever the normal path finder would load its file."""

    def __init__(self, path, text):
        self.path = os.path.abspath(path)
        self.text = text

    def find_spec(self, fullname, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.origin or os.path.abspath(spec.origin) != self.path:
            return None
        spec.loader = _MutatedLoader(fullname, spec.origin, self.text)
        return spec

    def install(self):
        sys.meta_path.insert(0, self)


class _MutatedLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname, path, text):
        super().__init__(fullname, path)
        self.text = text

    def get_code(self, fullname):
        # Never a cached .pyc: the mutated text is what runs.
        return compile(self.text, self.path, "exec", dont_inherit=True)
