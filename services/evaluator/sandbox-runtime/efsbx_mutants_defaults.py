"""A mutant that only changes default values of functions defined at import, applied without re-importing.

Default values are evaluated once, when `def` runs at import: re-pointing a function's code does not change
them, and a fresh import of the whole project per such mutant is slow. When the two sources differ in
nothing but the default values of module- or class-level functions (or lambdas), and the new values are
constants (what the default-argument, number, string and boolean operators make), the new values are
computed here and set on the live functions (`__defaults__`, `__kwdefaults__`): the same objects an import
would have made. Anything else goes the fresh-import way.
"""

import ast

_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST
_CONSTANT = (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Load)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _functions(tree):
    """[(node, qualname, first line, made at import)] in source order."""
    out = []

    def visit(node, prefix, at_import):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".", at_import)
            elif isinstance(child, _FUNCTIONS):
                name = "<lambda>" if isinstance(child, ast.Lambda) else child.name
                decorators = getattr(child, "decorator_list", [])
                first = min([child.lineno] + [d.lineno for d in decorators])
                out.append((child, prefix + name, first, at_import))
                visit(child, prefix + name + ".<locals>.", False)
            else:
                visit(child, prefix, at_import)

    visit(tree, "", True)
    return out


def _defaults(node):
    return ast.dump(ast.Tuple(elts=list(node.args.defaults) + [d or ast.Constant(None) for d in node.args.kw_defaults]))


def _without_defaults(tree):
    for node, _qualname, _first, _at_import in _functions(tree):
        node.args.defaults = []
        node.args.kw_defaults = [None for _ in node.args.kw_defaults]
    return ast.dump(tree)


def changes(path, original_text, mutated_text):
    """[(qualname, first line, defaults tuple or None, kwdefaults dict or None)] when the mutant changes only
    constant default values of functions made at import; None when it changes anything else."""
    try:
        original = compile(original_text, path, "exec", _ONLY_AST, dont_inherit=True)
        mutated = compile(mutated_text, path, "exec", _ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    before, after = _functions(original), _functions(mutated)
    if len(before) != len(after):
        return None
    out = []
    for (old, qualname, first, at_import), (new, qualname2, first2, _at) in zip(before, after):
        if qualname != qualname2 or first != first2 or _defaults(old) == _defaults(new):
            continue
        values = list(new.args.defaults) + [d for d in new.args.kw_defaults if d is not None]
        if not at_import or any(not isinstance(n, _CONSTANT + (ast.unaryop, ast.operator)) for v in values for n in ast.walk(v)):
            return None
        try:
            defaults = tuple(_constant(d) for d in new.args.defaults)
            kwdefaults = {
                arg.arg: _constant(d) for arg, d in zip(new.args.kwonlyargs, new.args.kw_defaults) if d is not None
            }
        except Exception:  # noqa: BLE001 - 1 / 0 as a default: the import itself would fail
            return None
        out.append((qualname, first, defaults or None, kwdefaults or None))
    if not out or _without_defaults(original) != _without_defaults(mutated):
        return None
    return out


def _constant(node):
    return eval(compile(ast.Expression(node), "<default>", "eval"), {"__builtins__": {}})  # noqa: S307 - constants only
