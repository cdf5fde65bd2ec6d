#!/usr/bin/env python3
# Regenerates tests/data/check_globals_oracle.jsonl (used by tests/check.rs):
#   find corpus/cases -type f ! -name "*.json" | sort | xargs python3 tests/data/check_globals_oracle.py > tests/data/check_globals_oracle.jsonl
# For each file given: the (offset, opcode, module, name) of every global CPython's
# unpickler resolves, as JSON lines. find_class is replaced by a recorder returning a
# stub, so nothing is imported or run; pickletools.genops gives the opcode offsets.
import codecs, collections, io, json, pickle, pickletools, sys

HARMLESS = {'set': set, 'frozenset': frozenset, 'bytearray': bytearray, 'complex': complex,
            'tuple': tuple, 'bytes': bytes}

class Stub:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): return Stub()
    def __setstate__(self, state): pass
    def __reduce__(self): return (Stub, ())

class Rec(pickle.Unpickler):
    def __init__(self, f, names):
        super().__init__(f, encoding='latin1')
        self.names = names
    def find_class(self, module, name):
        self.names.append((module, name))
        # Plain value types are safe to call (and needed: a set of stubs is no set).
        if module in ('builtins', '__builtin__') and name in HARMLESS:
            return HARMLESS[name]
        if (module, name) == ('collections', 'OrderedDict'):
            return collections.OrderedDict
        if (module, name) == ('_codecs', 'encode'):
            return codecs.encode
        return Stub
    def persistent_load(self, pid):
        return Stub()

for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    ops = []
    try:
        for op, arg, pos in pickletools.genops(io.BytesIO(data)):
            if op.name in ('GLOBAL', 'INST', 'STACK_GLOBAL'):
                ops.append((pos, op.name))
    except Exception as e:
        pass
    names = []
    err = None
    try:
        Rec(io.BytesIO(data), names).load()
    except Exception as e:
        err = type(e).__name__
    print(json.dumps({"path": path, "ops": ops, "names": names, "error": err}))
