"""The wire format between the checker and the candidate: plain data by value, everything else by reference.

Plain data is None, bool, int (any size: two's complement bytes, never decimal text, so Python's int-to-str
limit does not apply), float (the 8 IEEE bytes: nan, inf and -0.0 survive), complex, str (UTF-8 with lone
surrogates kept), bytes, bytearray, list, tuple, dict (any plain hashable keys), set and frozenset, nested.
Anything else crosses as a reference the receiving side turns into a proxy (`ref` callbacks below).

Decoding never recurses and never calls code the sender chose: containers are built from an explicit stack,
sets and dict keys may only hold plain values (hashing a proxy would call back into the other process), and
the depth and size are bounded. A malformed message raises ProtocolError, which the checker treats as the
candidate's failure.

Message framing: a 4-byte little-endian length, then the encoded value.
"""

import os
import struct

MAX_DEPTH = 1000

T_NONE, T_FALSE, T_TRUE, T_INT, T_BIGINT, T_FLOAT, T_COMPLEX, T_STR, T_BYTES, T_BYTEARRAY = range(10)
T_LIST, T_TUPLE, T_DICT, T_SET, T_FROZENSET = range(10, 15)
# References: a candidate object (id, type name), a checker object (id), a builtin type or exception class
# (name), a candidate-defined exception class (id, name, builtin base name).
T_CAND, T_CHECK, T_BUILTIN, T_EXC_CLASS = range(15, 19)

_Q = struct.Struct("<q")
_D = struct.Struct("<d")
_DD = struct.Struct("<dd")
_I = struct.Struct("<I")
_QU = struct.Struct("<Q")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class ChannelClosed(Exception):
    """The other side closed its end (it exited or was killed)."""


class Encoder:
    """Encodes a value; `ref(value)` is called for anything that is not plain and returns (tag, *fields).

    `strict` (the candidate's encoder is not): exact built-in types only; subclasses become references.
    The candidate encodes subclasses of plain types by their base value (a float subclass crosses as the
    float it holds, losing any __eq__ it overrides), which is what makes returning one harmless.
    """

    def __init__(self, ref, strict):
        self.ref = ref
        self.strict = strict

    def encode(self, value):
        out = bytearray()
        self._value(out, value, 0)
        return out

    def _value(self, out, value, depth):
        kind = type(value)
        if value is None:
            out.append(T_NONE)
        elif value is True or value is False:
            out.append(T_TRUE if value else T_FALSE)
        elif kind is int:
            self._int(out, value)
        elif kind is float:
            out.append(T_FLOAT)
            out += _D.pack(value)
        elif kind is str:
            self._sized(out, T_STR, value.encode("utf-8", "surrogatepass"))
        elif kind is bytes:
            self._sized(out, T_BYTES, value)
        elif kind is list or kind is tuple:
            if depth >= MAX_DEPTH:
                raise ValueError("value nested deeper than %d levels" % MAX_DEPTH)
            self._container(out, kind, value, depth + 1)
        elif kind is dict or kind is set or kind is frozenset:
            if depth >= MAX_DEPTH:
                raise ValueError("value nested deeper than %d levels" % MAX_DEPTH)
            self._try_container(out, kind, value, value, depth)
        elif kind is complex:
            out.append(T_COMPLEX)
            out += _DD.pack(value.real, value.imag)
        elif kind is bytearray:
            self._sized(out, T_BYTEARRAY, bytes(value))
        elif not self.strict and self._subclass(out, value, depth):
            pass
        else:
            self._ref(out, self.ref(value))

    def _int(self, out, value):
        if _INT64_MIN <= value <= _INT64_MAX:
            out.append(T_INT)
            out += _Q.pack(value)
        else:
            data = int.to_bytes(value, (int.bit_length(value) + 8) // 8, "little", signed=True)
            self._sized(out, T_BIGINT, data)

    @staticmethod
    def _sized(out, tag, data):
        out.append(tag)
        out += _I.pack(len(data))
        out += data

    def _container(self, out, kind, value, depth):
        if kind is dict:
            out.append(T_DICT)
            out += _I.pack(len(value))
            for key, item in dict.items(value):
                self._key(out, key, depth)
                self._value(out, item, depth)
            return
        out.append({list: T_LIST, tuple: T_TUPLE, set: T_SET, frozenset: T_FROZENSET}[kind])
        items = list(value) if kind in (set, frozenset) else value
        out += _I.pack(len(items))
        hashed = kind in (set, frozenset)
        for item in items:
            if hashed:
                self._key(out, item, depth)
            else:
                self._value(out, item, depth)

    def _key(self, out, key, depth):
        # A set element or dict key must decode without hashing a proxy: plain values only.
        start = len(out)
        self._value(out, key, depth)
        if not _plain_only(out, start):
            raise _NotPlain()

    def _subclass(self, out, value, depth):
        """Candidate side: subclasses of plain types by their base value, a few views and numpy scalars."""
        for base in (bool, int, float, str, bytes, complex):
            if isinstance(value, base):
                if base is bool:
                    out.append(T_TRUE if int.__index__(value) else T_FALSE)
                elif base is int:
                    self._int(out, int.__index__(value))
                elif base is float:
                    out.append(T_FLOAT)
                    out += _D.pack(value)
                elif base is str:
                    self._sized(out, T_STR, str.encode(value, "utf-8", "surrogatepass"))
                elif base is bytes:
                    self._sized(out, T_BYTES, bytes(memoryview(value)))
                else:
                    out.append(T_COMPLEX)
                    out += _DD.pack(complex.real.__get__(value), complex.imag.__get__(value))
                return True
        for base, converted in ((dict, dict.items), (list, list), (tuple, tuple), (set, set), (frozenset, frozenset)):
            if isinstance(value, base):
                plain = dict(converted(value)) if base is dict else converted(base.__iter__(value))
                self._try_container(out, type(plain), plain, value, depth)
                return True
        name = type(value).__name__
        if name in ("dict_keys", "dict_items"):
            self._try_container(out, set, None, value, depth)
            return True
        if getattr(type(value), "__module__", None) == "numpy" and getattr(value, "shape", None) == ():
            self._value(out, value.item(), depth)  # a numpy scalar: its Python value
            return True
        return False

    def _try_container(self, out, kind, plain, original, depth):
        start = len(out)
        try:
            self._container(out, kind, plain if plain is not None else set(original), depth + 1)
        except (_NotPlain, TypeError):
            del out[start:]
            self._ref(out, self.ref(original))

    def _ref(self, out, fields):
        tag = fields[0]
        out.append(tag)
        if tag == T_CAND:
            out += _QU.pack(fields[1])
            self._sized(out, T_STR, fields[2].encode("utf-8", "replace"))
        elif tag == T_CHECK:
            out += _QU.pack(fields[1])
        elif tag == T_BUILTIN:
            self._sized(out, T_STR, fields[1].encode())
        elif tag == T_EXC_CLASS:
            out += _QU.pack(fields[1])
            self._sized(out, T_STR, fields[2].encode("utf-8", "replace"))
            self._sized(out, T_STR, fields[3].encode())
        else:
            raise ValueError("bad reference tag %r" % (tag,))


class _NotPlain(Exception):
    pass


def _plain_only(out, start):
    """Whether the encoded value at out[start:] contains no reference (walks the bytes, no recursion)."""
    pos, end, pending = start, len(out), 1
    while pending and pos < end:
        pending -= 1
        tag = out[pos]
        pos += 1
        if tag in (T_NONE, T_FALSE, T_TRUE):
            continue
        if tag in (T_INT, T_FLOAT):
            pos += 8
        elif tag == T_COMPLEX:
            pos += 16
        elif tag in (T_BIGINT, T_STR, T_BYTES, T_BYTEARRAY):
            pos += 4 + _I.unpack_from(out, pos)[0]
        elif tag in (T_TUPLE, T_FROZENSET):
            pending += _I.unpack_from(out, pos)[0]
            pos += 4
        else:
            return False  # a reference, or a mutable (unhashable) container
    return True


class Decoder:
    """Decodes one message. `ref(tag, fields)` turns a reference into an object of the receiving side."""

    def __init__(self, ref, max_depth=MAX_DEPTH):
        self.ref = ref
        self.max_depth = max_depth

    def decode(self, data):
        try:
            value, pos = self._decode(data)
        except ProtocolError:
            raise
        except (struct.error, IndexError, UnicodeDecodeError, OverflowError, MemoryError) as exc:
            raise ProtocolError("malformed message: %s" % type(exc).__name__) from None
        if pos != len(data):
            raise ProtocolError("trailing bytes after the message")
        return value

    def _decode(self, data):
        view = memoryview(data)
        end = len(data)
        pos = 0
        # Each frame: [tag, remaining items, items list]; dicts collect keys and values alternately.
        stack = []
        while True:
            if pos >= end:
                raise ProtocolError("truncated message")
            tag = data[pos]
            pos += 1
            if tag == T_NONE:
                value = None
            elif tag == T_FALSE:
                value = False
            elif tag == T_TRUE:
                value = True
            elif tag == T_INT:
                value = _Q.unpack_from(data, pos)[0]
                pos += 8
            elif tag == T_FLOAT:
                value = _D.unpack_from(data, pos)[0]
                pos += 8
            elif tag == T_COMPLEX:
                real, imag = _DD.unpack_from(data, pos)
                value = complex(real, imag)
                pos += 16
            elif tag in (T_BIGINT, T_STR, T_BYTES, T_BYTEARRAY):
                size = _I.unpack_from(data, pos)[0]
                pos += 4
                if pos + size > end:
                    raise ProtocolError("truncated message")
                chunk = view[pos : pos + size]
                pos += size
                if tag == T_STR:
                    value = str(chunk, "utf-8", "surrogatepass")
                elif tag == T_BIGINT:
                    value = int.from_bytes(chunk, "little", signed=True)
                else:
                    value = bytes(chunk) if tag == T_BYTES else bytearray(chunk)
            elif T_LIST <= tag <= T_FROZENSET:
                count = _I.unpack_from(data, pos)[0]
                pos += 4
                if count > end - pos:
                    raise ProtocolError("container larger than its message")
                if len(stack) >= self.max_depth:
                    raise ProtocolError("value nested deeper than %d levels" % self.max_depth)
                if tag == T_DICT:
                    count *= 2
                if count:
                    stack.append([tag, count, []])
                    continue
                value = _build(tag, [])
            elif tag == T_CAND:
                ident = _QU.unpack_from(data, pos)[0]
                size = _I.unpack_from(data, pos + 9)[0]
                if data[pos + 8] != T_STR or pos + 13 + size > end:
                    raise ProtocolError("malformed reference")
                name = str(view[pos + 13 : pos + 13 + size], "utf-8", "replace")
                pos += 13 + size
                value = self.ref(tag, (ident, name))
            elif tag == T_CHECK:
                ident = _QU.unpack_from(data, pos)[0]
                pos += 8
                value = self.ref(tag, (ident,))
            elif tag == T_BUILTIN:
                if data[pos] != T_STR:
                    raise ProtocolError("malformed reference")
                size = _I.unpack_from(data, pos + 1)[0]
                name = str(view[pos + 5 : pos + 5 + size], "ascii")
                pos += 5 + size
                value = self.ref(tag, (name,))
            elif tag == T_EXC_CLASS:
                ident = _QU.unpack_from(data, pos)[0]
                pos += 8
                fields = [ident]
                for _ in range(2):
                    if data[pos] != T_STR:
                        raise ProtocolError("malformed reference")
                    size = _I.unpack_from(data, pos + 1)[0]
                    fields.append(str(view[pos + 5 : pos + 5 + size], "utf-8", "replace"))
                    pos += 5 + size
                value = self.ref(tag, tuple(fields))
            else:
                raise ProtocolError("unknown tag %d" % tag)

            # Attach the value to the innermost open container, closing every container it completes.
            while stack:
                frame = stack[-1]
                kind = frame[0]
                if (kind in (T_SET, T_FROZENSET) or (kind == T_DICT and frame[1] % 2 == 0)) and not _hashable_plain(
                    value
                ):
                    raise ProtocolError("set elements and dict keys must be plain hashable values")
                frame[2].append(value)
                frame[1] -= 1
                if frame[1]:
                    break
                stack.pop()
                value = _build(kind, frame[2])
            else:
                return value, pos


def _build(tag, items):
    if tag == T_LIST:
        return items
    if tag == T_TUPLE:
        return tuple(items)
    if tag == T_DICT:
        return dict(zip(items[0::2], items[1::2]))
    if tag == T_SET:
        return set(items)
    return frozenset(items)


_HASHABLE = (type(None), bool, int, float, complex, str, bytes)


def _hashable_plain(value):
    """Plain and hashable, checked without hashing: None, numbers, str, bytes, and tuples/frozensets of them."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _HASHABLE:
            continue
        if kind is tuple or kind is frozenset:
            pending.extend(item)
            continue
        return False
    return True


def write_message(fd, payload):
    """One framed message; loops over partial writes."""
    data = _I.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue


def read_message(fd, limit, wait=None):
    """One framed message of at most `limit` bytes. `wait(fd)` blocks until fd is readable (timeouts)."""
    header = _read_exact(fd, 4, wait)
    size = _I.unpack(header)[0]
    if size > limit:
        raise ProtocolError("message of %d bytes exceeds the %d-byte limit" % (size, limit))
    return _read_exact(fd, size, wait)


def _read_exact(fd, size, wait):
    chunks = []
    while size:
        if wait is not None:
            wait(fd)
        try:
            chunk = os.read(fd, min(size, 1 << 20))
        except InterruptedError:
            continue
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
