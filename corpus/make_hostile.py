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


SCAN = os.path.join(ROOT, "scan")


def scan_case(cid, data, cls, source, notes, expect="finding", ext=".bin"):
    """A file paddle.load reads without complaint (so not an n_ case) that `pdsave check`
    must flag: corpus/scan/<cid>.bin, listed in corpus/scan/scan.json."""
    os.makedirs(SCAN, exist_ok=True)
    with open(os.path.join(SCAN, cid + ext), "wb") as f:
        f.write(data)
    SCANS.append({"id": cid, "file": cid + ext, "class": cls, "source": source,
                  "notes": notes, "expect": expect})


SCANS = []


def pub(cid, data, reason, cls, source, notes, rules):
    """An n_ case from a published bypass: `source` is where it was published."""
    case(cid, data, "pickle", reason, f"{notes} [class: {cls}; source: {source}]", rules)
    CLASSES[cid] = cls


CLASSES = {}


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

    # ---- Published bypasses of 2023-2026 (issue #18). Payloads harmless if ever run.
    def call4(module, name, *args):
        """protocol 4: STACK_GLOBAL module name, then a REDUCE with str/dict args."""
        b = b"\x80\x04" + s4(module) + s4(name) + b"\x93\x94"
        for a in args:
            b += s4(a) if isinstance(a, str) else a
        b += {0: b")", 1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(args)] + b"\x94R\x94."
        return b

    gadgets = [
        ("cProfile", "run", ("1+1",), "GHSA-9w88-8rmg-7g2p (picklescan: cProfile.runctx / run)"),
        ("timeit", "timeit", ("1+1",), "GHSA-v7x6-rv5q-mhwc (picklescan: timeit.timeit)"),
        ("pip", "main", (b"]\x94" + s4("--version") + b"a",), "CVE-2025-1716 (picklescan bypass via pip.main; promptfoo/modelaudit#598)"),
        ("numpy.testing._private.utils", "runstring", ("1+1", b"}\x94"), "fickling #210 / picklescan advisories (numpy.testing runstring execs text)"),
        ("dataclasses", "_create_fn", ("f", b")", b"]\x94" + s4("return 1") + b"a"), "picklescan advisories (dataclasses._create_fn execs its body)"),
        ("typing", "_eval_type", ("1+1", b"}\x94", b"}\x94"), "picklescan advisories (typing._eval_type evaluates text)"),
        ("pydoc", "locate", ("os.getcwd",), "picklescan advisories (pydoc.locate resolves any dotted name)"),
        ("pkgutil", "resolve_name", ("os:getcwd",), "GHSA-vvpj-8cmc-gx39 (picklescan: pkgutil.resolve_name universal bypass)"),
        ("importlib", "import_module", ("os",), "mmaitre314/picklescan#66 (importlib.import_module)"),
        ("runpy", "_run_code", ("1+1", b"}\x94"), "picklescan advisories (runpy._run_code)"),
        ("code", "InteractiveInterpreter", (), "GHSA (picklescan PR #48: code.InteractiveInterpreter.runsource)"),
        ("uuid", "_get_command_stdout", ("true",), "picklescan advisories (uuid._get_command_stdout runs a command)"),
        ("paddle.utils.download", "_wget_download", ("http://127.0.0.1:9/none", "/dev/null"), "CVE-2023-52311 (Paddle: command injection in _wget_download)"),
        ("paddle.distributed.fleet.utils.fs", "LocalFS", (), "CVE-2023-38673 (Paddle: LocalFS runs shell commands)"),
    ]
    for module, name, args, source in gadgets:
        cid = "n_gadget_" + (module + "_" + name).replace(".", "_").lower()
        pub(cid, call4(module, name, *args), f"{module}.{name}", "gadgets", source,
            f"{module}.{name} called through STACK_GLOBAL + REDUCE", ["P-ALLOW"])

    # Names inside allowed modules: find_class walks a dotted name with getattr (protocol 4).
    pub("n_dotted_builtins_eval_self_exec", call4("builtins", "eval.__self__.exec", "1+1"),
        "eval.__self__.exec", "names inside allowed modules",
        "picklescan advisories: dotted names reach builtins.exec through the allowed eval",
        "builtins.eval.__self__.exec('1+1'): exec reached as an attribute of the allowlisted eval",
        ["P-ALLOW"])
    pub("n_dotted_numpy_testing_runstring",
        call4("numpy", "testing._private.utils.runstring", "1+1", b"}\x94"),
        "testing._private.utils.runstring", "names inside allowed modules",
        "fickling #210 / picklescan advisories (numpy.testing runstring)",
        "numpy + 'testing._private.utils.runstring': a gadget named under the allowed module numpy",
        ["P-ALLOW"])
    pub("n_eval_as_value",
        b"\x80\x04}\x94" + s4("k") + s4("builtins") + s4("eval") + b"\x93\x94s.",
        "builtins.eval", "names inside allowed modules",
        "issue #18: check called an eval pushed as a value 'safe: Paddle static tensor'",
        "{'k': builtins.eval}: the allowlisted eval pushed as a plain value, never called",
        ["P-SHAPE", "C-VERDICT"])

    # BUILD / __setstate__: setattr on a module function (modelscan issue #85).
    p = (b"\x80\x05cnumpy\nprod\nN(Va\nVos\nd\x86b"
         b"N(Vb\nVsystem\nd\x86b0cnumpy\nprod.a\np0\ncnumpy\nprod.b\np1\n00g0\ng1\n\x93Vtrue\n\x85R.")
    pub("n_build_setattr_stack_global", p, "numpy.prod", "BUILD/__setstate__",
        "protectai/modelscan#85 (BUILD slotstate sets numpy.prod.a='os', b='system', then STACK_GLOBAL of them)",
        "BUILD sets attributes of numpy.prod, a memo-tracked STACK_GLOBAL then names os.system", ["P-ALLOW", "P-SHAPE"])
    pub("n_build_state_on_reduce", b"\x80\x02cbuiltins\nset\n]\x85R}X\x04\x00\x00\x00keysK\x01sb.",
        "BUILD", "BUILD/__setstate__", "fickling/picklescan BUILD-state issues (__setstate__ on a made object)",
        "set() then BUILD with a state dict: CPython calls __setstate__ / setattr on it", ["P-SHAPE"])

    # Opcode tricks.
    body = b"cbuiltins\nprint\n(S'HIDDEN'\ntR0"
    n = 2 + len(body)
    inframe = b"B" + struct.pack("<I", n) + b"XX"
    pub("n_frame_binbytes_straddle",
        b"\x80\x04\x95" + struct.pack("<Q", len(inframe)) + inframe + body + b".",
        "FRAME at offset 2", "opcode tricks",
        "python/cpython#154848 (gh-154848: frame boundaries not enforced by the C unpickler); trailofbits/fickling#317",
        "a BINBYTES whose 38 bytes run 36 bytes past the end of its 7-byte frame (pickle.py: 'pickle exhausted before end of frame')",
        ["P-FRAME"])
    inner = b"N."
    pub("n_frame_in_frame",
        b"\x80\x04\x95" + struct.pack("<Q", 2 + 9 + len(inner)) + b"N0\x95" + struct.pack("<Q", len(inner)) + inner,
        "opens a new frame", "opcode tricks",
        "python/cpython#154848; CPython issue #128853 (framing in the C accelerator)",
        "a FRAME opened inside a frame (pickle.py: 'beginning of a new frame before end of current frame')",
        ["P-FRAME"])
    inframe = b"cfoo"
    pub("n_frame_line_hides_os_system",
        b"\x80\x04\x95" + struct.pack("<Q", len(inframe)) + inframe + b"os\nsystem\n(S'true'\ntR.",
        "FRAME at offset 2", "opcode tricks",
        "python/cpython#154848 (a GLOBAL line straddling the frame end: CPython 3.11's C unpickler on a BytesIO reads it again from the frame end, importing os.system where pickletools shows fooos.system)",
        "GLOBAL 'foo'|'os\\nsystem': scanners see fooos.system, paddle.load(BytesIO) imports os.system",
        ["P-FRAME", "P-ALLOW"])
    pub("n_payload_then_invalid_opcode", b"cos\nsystem\n(S'true'\ntR\xff", "os.system", "opcode tricks",
        "exception-oriented scanner bypass: the unpickler runs the call before it meets the bad byte that makes scanners give up",
        "os.system('true') then an invalid opcode byte 0xff", ["P-ALLOW", "P-ERR"])
    pub("n_float_prefix_os_system", b"}F1.0\ncos\nsystem\n(S'true'\ntR.", "os.system", "opcode tricks",
        "trailofbits/fickling#322 (a FLOAT opcode fickling cannot decode, before the payload)",
        "protocol-0 FLOAT before os.system('true')", ["P-ALLOW"])
    hidden = (b"\x80\x04" + s4("numpy") + s4("dtype") + b"00"  # decoy strings memoized, popped
              + b"\x8c\x02os\x94\x8c\x06system\x94" + b"00"    # the real ones
              + b"h\x02h\x03\x93\x94" + s4("true") + b"\x85\x94R\x94.")
    pub("n_memo_decoy_global", hidden, "os.system", "opcode tricks",
        "memo-decoy trick (scanners that track the last strings, not the memo: protectai/modelscan#85)",
        "memo slots 0-1 hold 'numpy','dtype' (a decoy), STACK_GLOBAL reads slots 2-3: os.system", ["P-ALLOW", "P-MEMO"])

    # numpy.
    obj = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
           b"(K\x01K\x01\x85cnumpy\ndtype\nX\x02\x00\x00\x00O8\x89\x88\x87R(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"
           b"\x89]cos\nsystem\nX\x04\x00\x00\x00true\x85Ratb.")
    pub("n_numpy_object_array", obj, "O8", "numpy",
        "numpy object arrays pickle their items (numpy issue 12759 / CVE-2019-6446: np.load(allow_pickle) runs code)",
        "an ndarray of dtype object whose one item is os.system('true')", ["P-SHAPE", "P-ALLOW"])
    pub("n_numpy_load_nested", call4("numpy", "load", "/dev/null"), "numpy.load", "numpy",
        "CVE-2019-6446 (numpy.load with allow_pickle loads another pickle)",
        "numpy.load('/dev/null') called from a pickle", ["P-ALLOW"])
    pub("n_numpy_f2py_eval",
        call4("numpy.f2py.crackfortran", "_eval_length", "1+1", b"}\x94"), "numpy.f2py", "numpy",
        "trailofbits/fickling#210 (numpy.f2py.crackfortran eval gadgets)",
        "numpy.f2py.crackfortran._eval_length('1+1', {})", ["P-ALLOW"])

    # Resource exhaustion (decodes in CPython; pdsave refuses to print the int).
    big = b"\x80\x02\x8b" + struct.pack("<i", 1 << 20) + bytes([0x5A]) * (1 << 20) + b"."
    pub("n_huge_long4_1mib", big, "4300", "resource exhaustion",
        "CPython's int_max_str_digits (CVE-2020-10735: quadratic int-to-decimal)",
        "a 1 MiB LONG4 (2.5 million decimal digits): str() of it raises ValueError in CPython", ["P-LIMIT"])
    for cid, c in CLASSES.items():
        pass
    for cid in ("n_deep_nesting", "n_fuzz_memo_fanout_lists", "n_fuzz_memo_fanout_str",
                "n_binbytes_size_lie", "n_binunicode8_size_lie", "n_ndarray_size_lie"):
        CLASSES[cid] = "resource exhaustion"
    for cid in ("n_os_system", "n_posix_system", "n_subprocess_popen", "n_builtins_getattr"):
        CLASSES[cid] = "gadgets"
    for cid in ("n_eval_expression", "n_eval_data_not_ndarray", "n_eval_other_source",
                "n_tuple_not_tensor", "n_newobj_set"):
        CLASSES[cid] = "names inside allowed modules"
    CLASSES["n_build_on_global"] = "BUILD/__setstate__"
    CLASSES["n_memo_hidden_global"] = "opcode tricks"


    # ---- Archives (models are published as *_infer.tar / .tar.gz / .zip): C-ARCHIVE.
    import io, tarfile, zipfile, gzip
    model = {f: real("y_p2_jit_save_prefix", f) for f in ("net.pdmodel", "net.pdiparams", "net.pdiparams.info")}
    evil = b"cos\nsystem\n(S'true'\ntR."

    def tar_bytes(members, gz=False):
        """members: (name, bytes) for files, (name, ("sym"|"hard", target)) for links."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
            for name, data in members:
                ti = tarfile.TarInfo(name)
                ti.mtime = 0
                if isinstance(data, tuple):
                    ti.type = tarfile.SYMTYPE if data[0] == "sym" else tarfile.LNKTYPE
                    ti.linkname = data[1]
                    t.addfile(ti)
                else:
                    ti.size = len(data)
                    t.addfile(ti, io.BytesIO(data))
        b = buf.getvalue()
        return gzip.compress(b, mtime=0) if gz else b

    infer = [("inference/" + f.replace("net", "inference"), d) for f, d in model.items()]
    arch = lambda cid, data, reason, src, notes, rules: (
        case(cid, data, "archive", reason, f"{notes} [class: archives; source: {src}]", rules,
             entry="input" + (".tar.gz" if data[:2] == b"\x1f\x8b" else ".zip" if data[:2] == b"PK" else ".tar")),
        CLASSES.__setitem__(cid, "archives"))
    arch("n_archive_tar_traversal", tar_bytes(infer + [("../evil.pdparams", evil)]), "offset",
         "CVE-2007-4559 (tarfile path traversal), the classic of published model archives",
         "a real jit.save model under inference/, and a member ../evil.pdparams (os.system)", ["C-ARCHIVE"])
    arch("n_archive_tar_symlink", tar_bytes([("inference/x", ("sym", "/etc/passwd"))] + infer),
         "offset", "CVE-2007-4559 (links in tar archives)",
         "a symbolic link member to /etc/passwd before a real model", ["C-ARCHIVE"])
    arch("n_archive_tar_duplicate", tar_bytes(infer + [("inference/inference.pdiparams.info", evil)]),
         "offset", "duplicate-name trick (a listing shows the first member, extraction keeps the last)",
         "inference.pdiparams.info twice: the second is os.system", ["C-ARCHIVE", "P-ALLOW"])
    arch("n_archive_tgz_lying_member",
         tar_bytes([(n, evil if n.endswith(".pdmodel") else d) for n, d in infer], gz=True),
         "offset", "members not what their names say (a scanner that trusts extensions skips them)",
         "a .tar.gz whose inference.pdmodel is a pickle calling os.system", ["C-ARCHIVE", "P-ALLOW"])
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w") as z:
        for n, d in infer:
            z.writestr(zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)), d)
        z.writestr(zipfile.ZipInfo("../../evil.pdparams", (1980, 1, 1, 0, 0, 0)), evil)
    arch("n_archive_zip_traversal", zb.getvalue(), "offset",
         "Zip Slip (Snyk, 2018): ../ names in zip archives",
         "a real model zipped with a member ../../evil.pdparams (os.system)", ["C-ARCHIVE"])
    # A tar whose first member's name is pickle opcodes: the tar's own bytes unpickle to
    # os.system('true') when paddle.load is given the .tar (a tar/pickle polyglot).
    arch("n_archive_tar_polyglot", tar_bytes([("cos\nsystem\n(S'true'\ntR.", b"x")] + infer),
         "os.system", "polyglot files (trailofbits/fickling's polyglot module: one file, two formats)",
         "a tar whose first member is named cos\\nsystem\\n(S'true'\\ntR. : paddle.load(tar) runs os.system",
         ["C-ARCHIVE", "P-ALLOW"])
    # A clean archive of a real Paddle model: check must find nothing.
    scan_case("clean_infer_tar", tar_bytes(infer), "archives", "a real jit.save model (Paddle 2.6.2) as *_infer.tar",
              "inference/inference.{pdmodel,pdiparams,pdiparams.info}", expect="clean", ext=".tar")
    scan_case("clean_infer_tgz", tar_bytes(infer, gz=True), "archives", "the same as .tar.gz",
              "inference/inference.*", expect="clean", ext=".tar.gz")
    # Accepted by paddle.load (it reads the first pickle), flagged by check: corpus/scan/.
    scan_case("s_second_pickle_os_system", sd + b"cos\nsystem\n(S'true'\ntR.", "opcode tricks",
              "issue #18: data after STOP is ignored by scanners that stop at the first STOP",
              "a real protocol-4 state dict, then a second pickle os.system('true')")
    scan_case("s_trailing_junk", sd + b"\x00junk after the STOP" * 4, "opcode tricks",
              "issue #18: data after STOP", "a real protocol-4 state dict, then 80 bytes of junk")
    with open(os.path.join(SCAN, "scan.json"), "w") as f:
        json.dump({"cases": SCANS, "n_classes": CLASSES}, f, indent=1)
        f.write("\n")
    print("wrote", len([d for d in os.listdir(CASES) if d.startswith("n_")]), "n_ cases")


if __name__ == "__main__":
    sys.exit(main())
