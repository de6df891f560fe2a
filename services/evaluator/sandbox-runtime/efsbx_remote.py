"""Checker side of the call channel: proxies for the candidate's objects, and the calls that reach them.

The checker never runs candidate code. A candidate value that is plain data arrives as the checker's own
object (a real list of real ints), so every comparison in the tests runs on the checker's objects with the
checker's builtins. Anything else arrives as a Handle: its attribute access, calls, iteration and similar
go back to the candidate's process. Comparing a Handle with plain data never asks the candidate (an object
that claims to equal everything would otherwise pass any assert): it behaves like an object without __eq__.
Only where the tests' outcome may rest on the candidate's own __eq__, __bool__, __hash__ and kin (two Handles
compared, a Handle's truth value or hash) is the candidate consulted, and `integrity` becomes "handle".

Time limits: each call must be answered within the per-call limit and the job's total deadline; a
checker-side SIGALRM covers the total deadline while the tests compute on their own.
"""

import builtins
import select
import signal
import time

import efsbx_codec as codec

MESSAGE_LIMIT = 64 * 1024 * 1024
NEST_LIMIT = 200  # calls nested through callbacks (checker -> candidate -> checker -> ...)


class CheckerAbort(BaseException):
    """Ends the checks at once; never caught by the tests' own `except Exception`. reason: a verdict word."""

    def __init__(self, verdict, reason, message):
        super().__init__(message)
        self.verdict = verdict
        self.reason = reason
        self.message = message


class Remote:
    """The one call channel of this checker: requests on `req_fd`, replies (and callbacks) on `rep_fd`."""

    def __init__(self, req_fd, rep_fd, deadline, call_limit_s):
        self.req_fd = req_fd
        self.rep_fd = rep_fd
        self.deadline = deadline
        self.call_limit_s = call_limit_s
        self.handles = {}
        self.exc_classes = {}
        self.exported = {}
        self.exported_ids = {}
        self.handle_semantics = False
        self.fatal = None
        self.on_test = None
        self.nesting = 0
        self.poller = select.poll()
        self.poller.register(rep_fd, select.POLLIN)
        self.encoder = codec.Encoder(self._export, strict=True)
        self.decoder = codec.Decoder(self._import)
        self.call_deadline = None

    # -- values --------------------------------------------------------------------------------------
    def _export(self, value):
        if type(value) is Handle:
            return (codec.T_CAND, object.__getattribute__(value, "_id"), "")
        if isinstance(value, type):
            hid = getattr(value, "_efsbx_candidate_class", None)
            if hid is not None and value.__dict__.get("_efsbx_candidate_class") == hid:
                return (codec.T_CAND, hid, "")
            name = getattr(value, "__name__", "")
            if getattr(builtins, name, None) is value:
                return (codec.T_BUILTIN, name)
        key = id(value)
        ident = self.exported_ids.get(key)
        if ident is None:
            ident = len(self.exported) + 1
            self.exported[ident] = value
            self.exported_ids[key] = ident
        return (codec.T_CHECK, ident)

    def _import(self, tag, fields):
        if tag == codec.T_CAND:
            ident = fields[0]
            handle = self.handles.get(ident)
            if handle is None:
                handle = object.__new__(Handle)
                object.__setattr__(handle, "_id", ident)
                object.__setattr__(handle, "_type", fields[1])
                self.handles[ident] = handle
            return handle
        if tag == codec.T_CHECK:
            try:
                return self.exported[fields[0]]
            except KeyError:
                raise codec.ProtocolError("unknown checker object") from None
        if tag == codec.T_BUILTIN:
            value = getattr(builtins, fields[0], None) if not fields[0].startswith("_") else None
            if not isinstance(value, type):
                raise codec.ProtocolError("not a builtin type: %r" % fields[0][:50])
            return value
        if tag == codec.T_EXC_CLASS:
            return self.exception_class(*fields)
        raise codec.ProtocolError("unexpected reference")

    def exception_class(self, ident, name, bases):
        """The checker's stand-in for a candidate-defined exception class (the same one every time), with the
        candidate's own exception classes between it and its builtin base rebuilt the same way."""
        cls = self.exc_classes.get(ident)
        if cls is None:
            builtin, *parents = bases.split("|")
            base = getattr(builtins, builtin, None)
            if not (isinstance(base, type) and issubclass(base, Exception)):
                base = Exception
            bases = (base,)
            if parents:
                parent_id, _, parent_name = parents[0].partition(":")
                if not parent_id.isdigit():
                    raise codec.ProtocolError("malformed exception class")
                parent = self.exception_class(int(parent_id), parent_name, "|".join([builtin] + parents[1:]))
                # The parent may have been built before with a plainer base: keep the builtin one too.
                bases = (parent,) if issubclass(parent, base) else (parent, base)
            safe = name.rpartition(".")[2]
            safe = safe if safe.isidentifier() else "CandidateError"
            namespace = {"__module__": "solution", "_efsbx_candidate_class": ident}
            try:
                cls = type(safe, bases, namespace)
            except TypeError:  # bases whose layouts conflict (OSError and KeyError, say): the nearer one wins
                cls = type(safe, bases[:1], namespace)
            self.exc_classes[ident] = cls
        return cls

    # -- calls ---------------------------------------------------------------------------------------
    def abort(self, verdict, reason, message):
        """The job is over (timeout, the candidate gone, a malformed reply): remembered, so that tests that
        catch every exception cannot continue past it; every later request raises it again."""
        if self.fatal is None:
            self.fatal = CheckerAbort(verdict, reason, message)
        return self.fatal

    def request(self, *message):
        """Send one request; serve callbacks until its reply arrives; return the value or raise."""
        if self.fatal is not None:
            raise self.fatal
        if self.nesting >= NEST_LIMIT:
            raise RecursionError("calls between the checker and the candidate nested too deeply")
        try:
            payload = self.encoder.encode(message)
        except ValueError as exc:
            raise TypeError("cannot pass this value to the candidate: %s" % exc) from None
        outer = self.call_deadline
        self.call_deadline = time.monotonic() + self.call_limit_s
        self.nesting += 1
        try:
            codec.write_message(self.req_fd, payload)
            while True:
                reply = self._receive()
                kind = reply[0]
                if kind == "ok":
                    if len(reply) > 2 and reply[2]:
                        _write_back(message, reply[2])
                    return reply[1]
                if kind == "err":
                    raise self._exception(reply[1])
                if kind == "cb":
                    self._serve_callback(reply)
                    continue
                if kind == "test" and self.on_test is not None and len(reply) == 2:
                    self.on_test(reply[1])
                    continue
                raise self.abort("failed", "bad_reply", "unexpected message from the candidate")
        except BrokenPipeError:
            raise self.abort("failed", "exit_before_checks", "the candidate's process ended") from None
        finally:
            self.nesting -= 1
            self.call_deadline = outer

    def _receive(self):
        try:
            data = codec.read_message(self.rep_fd, MESSAGE_LIMIT, self._wait)
            message = self.decoder.decode(data)
        except codec.ChannelClosed:
            raise self.abort("failed", "exit_before_checks", "the candidate's process ended") from None
        except codec.ProtocolError as exc:
            raise self.abort("failed", "bad_reply", "malformed reply from the candidate: %s" % exc) from None
        except MemoryError:
            raise self.abort("failed", "bad_reply", "the candidate's reply is too large") from None
        if type(message) is not tuple or not message or type(message[0]) is not str:
            raise self.abort("failed", "bad_reply", "malformed reply from the candidate")
        return message

    def _wait(self, fd):
        while True:
            now = time.monotonic()
            limit = self.deadline if self.call_deadline is None else min(self.deadline, self.call_deadline)
            if now >= limit:
                if now >= self.deadline:
                    raise self.abort("timeout", "wall_clock", "the job's time limit ran out")
                raise self.abort("timeout", "call_timeout", "a call to the candidate exceeded the per-call time limit")
            if self.poller.poll(max(1, int((limit - now) * 1000) + 1)):
                return

    def _serve_callback(self, message):
        if len(message) != 4 or type(message[2]) is not tuple or type(message[3]) is not dict:
            raise self.abort("failed", "bad_reply", "malformed callback from the candidate")
        target, args, kwargs = message[1], message[2], message[3]
        if not all(type(k) is str for k in kwargs):
            raise self.abort("failed", "bad_reply", "malformed callback from the candidate")
        try:
            result = target(*args, **kwargs)
            reply = ("ok", result)
            payload = self.encoder.encode(reply)
        except CheckerAbort:
            raise
        except Exception as exc:  # noqa: BLE001 - the candidate called a test-side function that raised
            payload = self.encoder.encode(("err", _exception_info(exc)))
        codec.write_message(self.req_fd, payload)

    def _exception(self, info):
        """The checker's exception for one the candidate raised: a builtin class, or a stand-in subclass."""
        if type(info) is not tuple or len(info) not in (4, 5) or not all(type(x) is str for x in info[:3]):
            raise self.abort("failed", "bad_reply", "malformed exception from the candidate")
        name, message, trace, cls = info[:4]
        args = info[4] if len(info) == 5 and type(info[4]) is tuple else ((message,) if message else ())
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            base = getattr(builtins, name, None)
            cls = base if isinstance(base, type) and issubclass(base, Exception) else CandidateError
        try:
            exc = cls(*args)
        except Exception:  # noqa: BLE001 - a class whose constructor wants other arguments
            exc = _loose(cls)(*args)
        if trace:
            exc.add_note("--- raised in the candidate's process ---\n" + trace[-4000:])
        return exc


def _loose(cls):
    """A subclass of `cls` that accepts any arguments (UnicodeDecodeError wants five)."""
    return type(cls.__name__, (cls,), {"__init__": BaseException.__init__, "__str__": BaseException.__str__})


class CandidateError(Exception):
    """An exception the candidate raised whose class the checker cannot name."""


def _malformed():
    return REMOTE.abort("failed", "bad_reply", "malformed reply from the candidate")


def _write_back(message, updates):
    """Apply the candidate's changes to mutable top-level arguments of a call (as an in-process call would)."""
    if message[0] != "call" or type(updates) is not list:
        raise _malformed()
    args, kwargs = message[2], message[3]
    for item in updates:
        if type(item) is not tuple or len(item) != 2:
            raise _malformed()
        key, value = item
        if type(key) is int and 0 <= key < len(args):
            target = args[key]
        elif type(key) is str and key in kwargs:
            target = kwargs[key]
        else:
            raise _malformed()
        kind = type(target)
        if type(value) is not kind or kind not in (list, dict, set, bytearray):
            raise _malformed()
        if kind is list or kind is bytearray:
            target[:] = value
        else:
            target.clear()
            target.update(value)


def _exception_info(exc):
    return (type(exc).__name__, _safe_str(exc), "", None)


def _safe_str(exc):
    try:
        return str(exc)[:4000]
    except Exception:  # noqa: BLE001
        return ""


REMOTE = None


def _request(*message):
    return REMOTE.request(*message)


def _flag():
    REMOTE.handle_semantics = True


def _checked(value, *kinds):
    if type(value) not in kinds:
        raise TypeError("the candidate answered %s where %s was expected" % (type(value).__name__, kinds[0].__name__))
    return value


def _binary(op):
    def method(self, other):
        if type(other) is not Handle:
            return NotImplemented
        _flag()
        return _request("op", op, self, (other,))

    method.__name__ = "__%s__" % op
    return method


def _unary(op, *kinds):
    def method(self, *args):
        result = _request("op", op, self, args)
        return _checked(result, *kinds) if kinds else result

    method.__name__ = "__%s__" % op
    return method


class Handle:
    """A candidate object seen from the checker. Everything it does happens in the candidate's process."""

    __slots__ = ("_id", "_type", "__weakref__")

    def __getattr__(self, name):
        return _request("getattr", self, name)

    def __setattr__(self, name, value):
        _request("setattr", self, name, value)

    def __delattr__(self, name):
        _request("delattr", self, name)

    def __call__(self, *args, **kwargs):
        return _request("call", self, args, kwargs)

    def __repr__(self):
        return _checked(_request("op", "repr", self, ()), str)

    def __str__(self):
        return _checked(_request("op", "str", self, ()), str)

    def __format__(self, spec):
        return _checked(_request("op", "format", self, (spec,)), str)

    def __bool__(self):
        _flag()
        return _checked(_request("op", "bool", self, ()), bool)

    def __hash__(self):
        _flag()
        return _checked(_request("op", "hash", self, ()), int)

    def __len__(self):
        return _checked(_request("op", "len", self, ()), int)

    def __iter__(self):
        return RemoteIterator(_request("op", "iter", self, ()))

    def __next__(self):
        return _request("op", "next", self, ())

    def __reversed__(self):
        return RemoteIterator(_request("op", "reversed", self, ()))

    def __contains__(self, item):
        # Membership decided here, by iterating: a candidate __contains__ could claim anything.
        for element in self:
            if element is item or element == item:
                return True
        return False

    def __getitem__(self, key):
        return _request("op", "getitem", self, (key,))

    def __setitem__(self, key, value):
        _request("op", "setitem", self, (key, value))

    def __delitem__(self, key):
        _request("op", "delitem", self, (key,))

    def __enter__(self):
        return _request("op", "enter", self, ())

    def __exit__(self, kind, value, trace):
        if value is None:
            return _request("op", "exit", self, (None,))
        # Whether an exception in the tests is swallowed is the candidate's say here: the pass may rest on it.
        _flag()
        return _checked(_request("op", "exit", self, (_exception_info(value),)), bool, type(None))

    def __instancecheck__(self, instance):
        _flag()
        return _checked(_request("op", "isinstance", self, (instance,)), bool)

    def __subclasscheck__(self, subclass):
        _flag()
        return _checked(_request("op", "issubclass", self, (subclass,)), bool)

    def __mro_entries__(self, bases):
        raise TypeError("a class of the candidate cannot be subclassed in the checker")

    def __reduce_ex__(self, protocol):
        raise TypeError("a candidate object cannot be pickled")

    def __copy__(self):
        return _request("op", "copy", self, ())

    def __deepcopy__(self, memo):
        return _request("op", "deepcopy", self, ())

    def __dir__(self):
        return _checked(_request("op", "dir", self, ()), list)

    __eq__ = _binary("eq")
    __ne__ = _binary("ne")
    __lt__ = _binary("lt")
    __le__ = _binary("le")
    __gt__ = _binary("gt")
    __ge__ = _binary("ge")
    __add__ = _binary("add")
    __sub__ = _binary("sub")
    __mul__ = _binary("mul")
    __truediv__ = _binary("truediv")
    __floordiv__ = _binary("floordiv")
    __mod__ = _binary("mod")
    __pow__ = _binary("pow")
    __and__ = _binary("and")
    __or__ = _binary("or")
    __xor__ = _binary("xor")
    __lshift__ = _binary("lshift")
    __rshift__ = _binary("rshift")
    __matmul__ = _binary("matmul")
    __neg__ = _unary("neg")
    __pos__ = _unary("pos")
    __abs__ = _unary("abs")
    __invert__ = _unary("invert")
    __int__ = _unary("int", int)
    __index__ = _unary("index", int)
    __float__ = _unary("float", float)
    __complex__ = _unary("complex", complex)
    __bytes__ = _unary("bytes", bytes)
    __round__ = _unary("round")
    __trunc__ = _unary("trunc")
    __floor__ = _unary("floor")
    __ceil__ = _unary("ceil")


class RemoteIterator:
    """Iterates a candidate iterator, fetching 1, 2, 4, ... up to 256 items per round trip."""

    __slots__ = ("_source", "_buffer", "_batch", "_done", "_error")

    def __init__(self, source):
        self._source = source
        self._buffer = []
        self._batch = 1
        self._done = False
        self._error = None

    def __iter__(self):
        return self

    def __next__(self):
        if not self._buffer:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._done:
                raise StopIteration
            if type(self._source) is not Handle:
                raise TypeError("the candidate's __iter__ returned a non-iterator")
            items, done, error = _batch_reply(_request("op", "batch", self._source, (self._batch,)))
            self._batch = min(self._batch * 2, 256)
            self._buffer = items
            self._buffer.reverse()
            self._done = done
            if error is not None:
                self._error = REMOTE._exception(error)
            if not self._buffer:
                return self.__next__()
        return self._buffer.pop()


def _batch_reply(reply):
    if type(reply) is not tuple or len(reply) != 3 or type(reply[0]) is not list or type(reply[1]) is not bool:
        raise _malformed()
    return reply


def install(req_fd, rep_fd, deadline, call_limit_s):
    """Create the process's Remote and arm the total deadline."""
    global REMOTE
    REMOTE = Remote(req_fd, rep_fd, deadline, call_limit_s)

    def expired(_signum, _frame):
        raise REMOTE.abort("timeout", "wall_clock", "the job's time limit ran out")

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()))
    return REMOTE
