"""Writes the corpus's n_ cases: inputs every implementation must reject.

Standard library only (no Paddle): the hostile pickles are written by hand, opcode by
opcode, and the truncated/lying binary files are cut from real Paddle files of the corpus.
Malicious payloads are harmless (`true`, `1+1`): an implementation that executes them
shows it by *accepting* the case, not by damage.

    python3 corpus/make_hostile.py            # writes corpus/cases/n_*/
"""

import json
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(ROOT, "cases")


def case(cid, data, fmt, reason, notes, rules, entry="input.bin"):
    d = os.path.join(CASES, cid)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, entry), "wb") as f:
        f.write(data)
    meta = {
        "id": cid, "kind": "n", "entry": entry, "format": fmt,
        "expect": "reject", "reason_contains": reason, "rules": rules,
        "notes": notes, "tags": ["hostile"], "writer": {"api": "corpus/make_hostile.py"},
    }
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def real(cid, name):
    with open(os.path.join(CASES, cid, name), "rb") as f:
        return f.read()


def s4(s):  # protocol 4 SHORT_BINUNICODE + MEMOIZE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b + b"\x94"


def main():
    sd = real("y_p3_proto4_linear_state_dict", "model.pdparams")
    sd2 = real("y_p3_proto2_linear_state_dict", "model.pdparams")

    # Malformed input.
    case("n_empty", b"", "pickle", "offset 0", "an empty file", ["P-ERR", "L-FILE"])
    case("n_text", b"this is not a model\n", "pickle", "offset", "plain text", ["P-ERR"])
    rnd = random.Random(1234)
    case("n_random_bytes", bytes(rnd.randrange(256) for _ in range(4096)), "pickle", "offset",
         "4 KiB of seeded random bytes", ["P-ERR"])
    for name, cut in (("after_proto", 2), ("mid_argument", 40), ("before_stop", len(sd) - 1)):
        case(f"n_truncated_{name}", sd[:cut], "pickle", f"offset",
             f"a real protocol-4 state dict cut to {cut} of {len(sd)} bytes", ["P-ERR", "P-LIMIT"])
    case("n_truncated_proto2_half", sd2[: len(sd2) // 2], "pickle", "offset",
         "a real protocol-2 state dict cut in half", ["P-ERR"])

    # Code execution through globals.
    case("n_os_system", b"cos\nsystem\n(S'true'\ntR.", "pickle", "os.system",
         "os.system('true'), protocol 0", ["P-ALLOW"])
    case("n_posix_system", b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.",
         "pickle", "posix.system", "posix.system('true'), protocol 2", ["P-ALLOW"])
    case("n_subprocess_popen",
         b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00" [:2] + s4("subprocess") + s4("Popen") + b"\x93\x94"
         + s4("true") + b"\x85\x94\x85\x94R\x94.",
         "pickle", "subprocess.Popen", "subprocess.Popen(('true',)) via STACK_GLOBAL", ["P-ALLOW"])
    # Module and name fetched from the memo: a static scan of GLOBAL opcodes sees nothing.
    hidden = (b"\x80\x04" + s4("os") + s4("system") + b"00"  # push, memoize, pop both
              + b"h\x00h\x01\x93\x94" + s4("true") + b"\x85\x94R\x94.")
    case("n_memo_hidden_global", hidden, "pickle", "os.system",
         "os.system with module and name pushed, popped, then fetched with BINGET (hidden from scanners)",
         ["P-ALLOW", "P-MEMO"])
    case("n_builtins_getattr", b"\x80\x03cbuiltins\ngetattr\ncbuiltins\ndict\nX\x04\x00\x00\x00keys\x86R.",
         "pickle", "builtins.getattr", "builtins.getattr(dict, 'keys')", ["P-ALLOW"])

    # Allowed globals used in other shapes.
    case("n_eval_expression", b"\x80\x03cbuiltins\neval\nX\x03\x00\x00\x001+1\x85R.", "pickle",
         "builtins.eval", "eval('1+1'): eval in a shape other than Paddle's static tensor", ["P-SHAPE"])
    case("n_eval_data_not_ndarray",
         b"\x80\x03cbuiltins\neval\nX\x04\x00\x00\x00data}X\x04\x00\x00\x00dataK\x05s\x86R.",
         "pickle", "builtins.eval", "eval('data', {'data': 5})", ["P-SHAPE"])
    src = b"__import__('os').getpid"
    case("n_eval_other_source",
         b"\x80\x03cbuiltins\neval\nX" + struct.pack("<I", len(src)) + src + b"}\x86R.",
         "pickle", "builtins.eval", "eval(\"__import__('os').getpid\", {})", ["P-SHAPE"])
    case("n_build_on_global", b"\x80\x02cnumpy\nndarray\n}b.", "pickle", "BUILD at offset 18",
         "BUILD with a state dict on the numpy.ndarray class", ["P-SHAPE"])
    case("n_newobj_set", b"\x80\x02cbuiltins\nset\n)\x81.", "pickle", "NEWOBJ",
         "NEWOBJ on an allowed class", ["P-SHAPE"])
    case("n_tuple_not_tensor", b"\x80\x02c__builtin__\ntuple\n]\x85R.", "pickle", "tuple",
         "builtins.tuple([]) : tuple called in another shape than Paddle's tensor", ["P-SHAPE"])

    # Size lies.
    case("n_binbytes_size_lie", b"\x80\x03B\xff\xff\xff\x7fabc.", "pickle", "offset 2",
         "BINBYTES claiming 2 GiB in a 12-byte file", ["P-LIMIT"])
    case("n_binunicode8_size_lie", b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b".", "pickle", "offset 2",
         "BINUNICODE8 claiming 2^62 bytes", ["P-LIMIT"])
    arr = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01"
           b"\x8a\x08\x00\x00\x64\xa7\xb3\xb6\xe0\x0d\x8a\x08\x00\x00\x64\xa7\xb3\xb6\xe0\x0d\x86"
           b"cnumpy\ndtype\nX\x02\x00\x00\x00f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
           b"\x89C\x08\x00\x00\x00\x00\x00\x00\x00\x00tb.")
    case("n_ndarray_size_lie", arr, "pickle", "numpy.ndarray",
         "an ndarray of shape (10^18, 10^18) with 8 bytes of data", ["P-LIMIT", "P-SHAPE"])

    # Deep nesting: decodes, but paddle.load's recursive walk raises RecursionError.
    n = 100000
    case("n_deep_nesting", b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b".", "pickle", "RecursionError",
         f"lists nested {n} deep", ["P-LIMIT", "L-DEPTH"])

    # Tensor streams cut from a real LoD tensor.
    lod = real("y_p3_binary_lod", "tensor.pdtensor")
    # u32 version, u64 level count, u64 level bytes, offsets...
    (levels,) = struct.unpack_from("<Q", lod, 4)
    (nbytes,) = struct.unpack_from("<Q", lod, 12)
    offs = list(struct.unpack_from("<%dQ" % (nbytes // 8), lod, 20))
    if len(offs) >= 3:
        bad = offs[:]
        bad[1], bad[2] = bad[2], bad[1]
        lie = lod[:20] + struct.pack("<%dQ" % len(bad), *bad) + lod[20 + nbytes:]
        case("n_lod_offsets_out_of_order", lie, "tensor_stream", "LoD",
             f"a real LoD tensor with offsets {offs} reordered to {bad}", ["T-LOD"])
    case("n_lod_level_larger_than_file", lod[:12] + struct.pack("<Q", 1 << 40) + lod[20:], "tensor_stream",
         "LoD", "LoD level claiming 2^40 bytes", ["T-LOD"])
    f32 = real("y_p3_binary_float32", "tensor.pdtensor")
    case("n_tensor_truncated", f32[:-3], "tensor_stream", "truncated", "a float32 tensor missing 3 bytes of data", ["T-DATA"])
    print("wrote", len([d for d in os.listdir(CASES) if d.startswith("n_")]), "n_ cases")


if __name__ == "__main__":
    sys.exit(main())
