#!/usr/bin/python3
"""A strict parser for the libconfig subset used by h2hd's profile files.

    import libconf
    cfg = libconf.load("etc/cnbank/cmb-style.profile")
    cfg, lines = libconf.load(path, with_lines=True)
    cfg = libconf.loads(text, "name-for-errors")

Python standard library only. Values come back as:

    group  { name = value; ... }     dict (insertion ordered)
    list   ( value, value, ... )     list (any values, mixed)
    array  [ scalar, scalar, ... ]   list (scalars of one type)
    "text" "more"                    str (adjacent strings concatenated)
    42  0x2A  42L                    int
    1.5  1e3  .5  1.                 float
    true / false (any case)          bool

`lines` maps a path tuple to the line a value starts on: ("functions",
"payment", "request", 0, 1) -> 57; () is the whole file.

Syntax follows libconfig 1.5 (Debian 12's libconfig9), which h2hd itself
uses, but refuses what would be sloppy in a profile even where libconfig
is lenient: an escape other than \\\\ \\" \\n \\r \\t \\f \\xHH, a raw
control character or newline inside a string, an integer that does not
fit 32 bits without the L suffix (libconfig silently wraps it), and
@include. Everything libconfig refuses is refused too: a trailing comma,
an empty statement, a duplicate name in a group, an array of mixed types
or of non-scalars, a name not matching [A-Za-z*][-A-Za-z0-9_*]*.
Settings are `name = value` or `name : value`, ended by `;`, `,` or
nothing. Comments: `#` and `//` to the end of the line, `/* ... */`.

Every error raises ConfigError("file:line: message").
"""
import re
import sys

__all__ = ["ConfigError", "load", "loads"]


class ConfigError(ValueError):
    """A syntax error; str() is "file:line: message"."""

    def __init__(self, filename, line, message):
        self.filename = filename
        self.line = line
        self.message = message
        super().__init__("%s:%d: %s" % (filename, line, message))


_NAME_RE = re.compile(r"[A-Za-z*][-A-Za-z0-9_*]*")
_FLOAT_RE = re.compile(
    r"[-+]?(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|[0-9]+[eE][-+]?[0-9]+)")
_INT_RE = re.compile(r"[-+]?[0-9]+(L{1,2})?")
_HEX_RE = re.compile(r"0[xX][0-9A-Fa-f]+(L{1,2})?")
_BOOL_RE = re.compile(r"(?i:true|false)")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t",
            "f": "\f"}
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class _Tok:
    __slots__ = ("kind", "value", "line")

    def __init__(self, kind, value, line):
        self.kind = kind      # name string int float bool punct eof
        self.value = value
        self.line = line

    def __repr__(self):
        return "%s %r" % (self.kind, self.value)


def _describe(tok):
    if tok.kind == "eof":
        return "end of file"
    if tok.kind == "string":
        return "a string"
    if tok.kind == "punct":
        return "'%s'" % tok.value
    return "%r" % (tok.value,)


class _Lexer:
    def __init__(self, text, filename):
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line = 1
        self.fn = filename

    def err(self, msg, line=None):
        raise ConfigError(self.fn, line or self.line, msg)

    def _skip(self):
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c == "\n":
                self.line += 1
                self.i += 1
            elif c in " \t\r\f\v":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                j = s.find("\n", self.i)
                self.i = self.n if j < 0 else j
            elif s.startswith("/*", self.i):
                j = s.find("*/", self.i + 2)
                if j < 0:
                    self.err("unterminated /* comment")
                self.line += s.count("\n", self.i, j)
                self.i = j + 2
            else:
                return

    def _string(self):
        s = self.s
        start_line = self.line
        self.i += 1
        out = []
        while True:
            if self.i >= self.n:
                self.err("unterminated string", start_line)
            c = s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\n":
                self.err("newline inside a string (end it with \" and "
                         "continue with another \"...\" on the next line)")
            if ord(c) < 0x20 or c == "\x7f":
                self.err("control character U+%04X inside a string "
                         "(write it as an escape)" % ord(c))
            if c == "\\":
                if self.i + 1 >= self.n:
                    self.err("unterminated string", start_line)
                e = s[self.i + 1]
                if e in _ESCAPES:
                    out.append(_ESCAPES[e])
                    self.i += 2
                elif e == "x":
                    h = s[self.i + 2:self.i + 4]
                    if not re.fullmatch(r"[0-9A-Fa-f]{2}", h):
                        self.err("\\x needs two hex digits")
                    v = int(h, 16)
                    if v >= 0x80:
                        # libconfig inserts the raw byte; a lone byte >= 0x80
                        # is not UTF-8, so refuse rather than guess
                        self.err("\\x%s is not ASCII (write the character "
                                 "itself, in UTF-8)" % h)
                    out.append(chr(v))
                    self.i += 4
                else:
                    self.err("unknown escape \\%s in a string" % e)
                continue
            out.append(c)
            self.i += 1

    def next(self):
        self._skip()
        if self.i >= self.n:
            return _Tok("eof", None, self.line)
        s, i, line = self.s, self.i, self.line
        c = s[i]
        if c == '"':
            parts = [self._string()]
            while True:   # adjacent strings are one value
                save_i, save_line = self.i, self.line
                self._skip()
                if self.i < self.n and self.s[self.i] == '"':
                    parts.append(self._string())
                else:
                    self.i, self.line = save_i, save_line
                    break
            return _Tok("string", "".join(parts), line)
        if c in "{}()[];,=:":
            self.i += 1
            return _Tok("punct", c, line)
        if c == "@":
            m = re.compile(r"@[A-Za-z_]+").match(s, i)
            word = m.group(0) if m else "@"
            self.err("%s is not supported in a profile" % word)
        # a bare word: number, boolean or name
        m = re.compile(r"[^\s{}()\[\];,=:\"#/]+").match(s, i)
        if not m:
            self.err("unexpected character %r" % c)
        word = m.group(0)
        self.i = m.end()
        if _HEX_RE.fullmatch(word):
            digits = word[2:].rstrip("L")
            v = int(digits, 16)
            if word.endswith("L"):
                if v > 0xFFFFFFFFFFFFFFFF:
                    self.err("hex integer %s out of 64-bit range" % word)
                if v > INT64_MAX:
                    v -= 1 << 64
            else:
                if v > 0xFFFFFFFF:
                    self.err("hex integer %s needs the L suffix (64-bit)" %
                             word)
            return _Tok("int", v, line)
        if _INT_RE.fullmatch(word):
            v = int(word.rstrip("L"))
            if word.endswith("L"):
                if not INT64_MIN <= v <= INT64_MAX:
                    self.err("integer %s out of 64-bit range" % word)
            elif not INT32_MIN <= v <= INT32_MAX:
                self.err("integer %s out of 32-bit range (add L for a "
                         "64-bit integer)" % word)
            return _Tok("int", v, line)
        if _FLOAT_RE.fullmatch(word):
            return _Tok("float", float(word), line)
        if _BOOL_RE.fullmatch(word):
            return _Tok("bool", word.lower() == "true", line)
        if _NAME_RE.fullmatch(word):
            return _Tok("name", word, line)
        self.err("cannot read %r (not a name, number or boolean)" % word)


class _Parser:
    def __init__(self, text, filename):
        self.lx = _Lexer(text, filename)
        self.fn = filename
        self.tok = self.lx.next()
        self.lines = {}

    def err(self, msg, tok=None):
        raise ConfigError(self.fn, (tok or self.tok).line, msg)

    def advance(self):
        t = self.tok
        self.tok = self.lx.next()
        return t

    def is_punct(self, p):
        return self.tok.kind == "punct" and self.tok.value == p

    def settings(self, path, end):
        """Parse settings until `end` ('}' or 'eof'); returns a dict."""
        out = {}
        while True:
            t = self.tok
            if end == "eof" and t.kind == "eof":
                return out
            if end == "}" and self.is_punct("}"):
                return out
            if t.kind != "name":
                if t.kind == "eof":
                    self.err("end of file inside a group (missing '}')")
                self.err("expected a setting name, found %s" % _describe(t))
            name = t.value
            self.advance()
            if not (self.is_punct("=") or self.is_punct(":")):
                self.err("expected '=' or ':' after %s, found %s" %
                         (name, _describe(self.tok)))
            self.advance()
            if name in out:
                self.err("duplicate setting name %s" % name, t)
            p = path + (name,)
            out[name] = self.value(p)
            if self.is_punct(";") or self.is_punct(","):
                self.advance()

    def value(self, path):
        t = self.tok
        self.lines[path] = t.line
        if t.kind in ("int", "float", "bool", "string"):
            self.advance()
            return t.value
        if self.is_punct("{"):
            self.advance()
            v = self.settings(path, "}")
            self.advance()
            return v
        if self.is_punct("("):
            self.advance()
            return self.seq(path, ")", scalars_only=False)
        if self.is_punct("["):
            self.advance()
            return self.seq(path, "]", scalars_only=True)
        self.err("expected a value, found %s" % _describe(t))

    def seq(self, path, close, scalars_only):
        out = []
        kind = None
        if self.is_punct(close):
            self.advance()
            return out
        while True:
            t = self.tok
            if scalars_only:
                if t.kind not in ("int", "float", "bool", "string"):
                    if t.kind == "punct" and t.value in "{([":
                        self.err("an array [ ] holds scalars only (use a "
                                 "list ( ) for groups, lists and arrays)")
                    self.err("expected a scalar, found %s" % _describe(t))
                if kind is not None and t.kind != kind:
                    self.err("mismatched element type in array (%s after "
                             "%s)" % (t.kind, kind))
                kind = t.kind
            out.append(self.value(path + (len(out),)))
            if self.is_punct(","):
                self.advance()
                if self.is_punct(close):
                    self.err("trailing ',' before '%s'" % close)
                continue
            if self.is_punct(close):
                self.advance()
                return out
            if self.tok.kind == "eof":
                self.err("end of file inside %s (missing '%s')" %
                         ("an array" if close == "]" else "a list", close))
            self.err("expected ',' or '%s', found %s" %
                     (close, _describe(self.tok)))


def loads(text, filename="<string>", with_lines=False):
    """Parse text (str, or bytes in UTF-8)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            line = bytes(text)[:e.start].count(b"\n") + 1
            raise ConfigError(filename, line, "not UTF-8 (byte 0x%02X)" %
                              text[e.start])
    if text.startswith("\ufeff"):
        raise ConfigError(filename, 1, "byte order mark (save as UTF-8 "
                          "without BOM)")
    p = _Parser(text, filename)
    p.lines[()] = 1
    cfg = p.settings((), "eof")
    return (cfg, p.lines) if with_lines else cfg


def load(path, with_lines=False):
    """Parse the file at path; errors name path:line."""
    with open(path, "rb") as f:
        data = f.read()
    return loads(data, path, with_lines)


def main(argv):
    """libconf.py FILE...: parse each file, print it as JSON or the error."""
    import json
    rc = 0
    for fn in argv[1:]:
        try:
            print(json.dumps(load(fn), ensure_ascii=False, indent=1))
        except (ConfigError, OSError) as e:
            print(e, file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
