//! The published ways to run code from a pickle: a sourced list of gadget globals
//! ([`GADGETS`]) and [`danger`], which names what one does. `check` calls them DANGER
//! (spec/check.md C-VERDICT); every global off the allowlist is a finding anyway. The
//! verdict on one reference ([`classify`]) is here too.

use super::globals::GlobalRef;
use super::Sym;

/// What a known gadget does, for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Harm {
    RunsProgram,
    RunsCode,
    Imports,
    Attributes,
    Files,
    Network,
    Deserialises,
    Interpreter,
    NativeCode,
    Calls,
}

impl Harm {
    pub fn text(self) -> &'static str {
        match self {
            Harm::RunsProgram => "runs a program or shell command",
            Harm::RunsCode => "runs arbitrary Python code",
            Harm::Imports => "imports any module (and so reaches any function)",
            Harm::Attributes => "reaches any attribute of any object, hence any function",
            Harm::Files => "reads, writes or deletes files",
            Harm::Network => "network access",
            Harm::Deserialises => "deserialises code or another pickle",
            Harm::Interpreter => "interpreter internals",
            Harm::NativeCode => "calls native code",
            Harm::Calls => "builds calls on arbitrary objects (a gadget for running code)",
        }
    }
}

/// One entry of [`GADGETS`]: a module (and its submodules), a name (`*`: any; a name also
/// covers its attribute paths), what it does, and where it was published.
pub struct Gadget {
    pub module: &'static str,
    pub name: &'static str,
    pub harm: Harm,
    pub source: &'static str,
}

const fn gd(module: &'static str, name: &'static str, harm: Harm, source: &'static str) -> Gadget {
    Gadget {
        module,
        name,
        harm,
        source,
    }
}

/// Where [`GADGETS`]' sources are published: the GHSA ids are picklescan's advisories, the
/// fickling references its list of integrated picklescan bypasses, CVE ids the CVE entries.
pub const GADGET_SOURCES: &[&str] = &[
    "https://github.com/mmaitre314/picklescan/security/advisories",
    "https://github.com/trailofbits/fickling/pull/210",
    "https://github.com/promptfoo/modelaudit/pull/598",
    "https://github.com/mmaitre314/picklescan/issues/66",
    "https://nvd.nist.gov/vuln/detail/CVE-2023-52311",
    "https://nvd.nist.gov/vuln/detail/CVE-2023-38673",
];

/// Globals published as ways to run code from a pickle (scanner bypasses 2023–2026 and
/// Paddle's own CVEs). Every global off the allowlist is a finding anyway; these are called
/// DANGER, with what they do. Sources: picklescan's advisories (`PS`), fickling's list of
/// integrated bypasses, ModelAudit and modelscan issues, the CVE entries.
pub const GADGETS: &[Gadget] = &[
    gd(
        "os",
        "*",
        Harm::RunsProgram,
        "os.system: the classic payload",
    ),
    gd(
        "posix",
        "*",
        Harm::RunsProgram,
        "os.system under its module name (posix.system)",
    ),
    gd(
        "nt",
        "*",
        Harm::RunsProgram,
        "os.system on Windows (nt.system)",
    ),
    gd(
        "subprocess",
        "*",
        Harm::RunsProgram,
        "subprocess.Popen / run / check_output",
    ),
    gd(
        "_posixsubprocess",
        "*",
        Harm::RunsProgram,
        "subprocess's native fork_exec",
    ),
    gd("pty", "*", Harm::RunsProgram, "pty.spawn"),
    gd(
        "multiprocessing",
        "*",
        Harm::RunsProgram,
        "multiprocessing's process spawning",
    ),
    gd(
        "asyncio",
        "subprocess",
        Harm::RunsProgram,
        "asyncio.create_subprocess_shell",
    ),
    gd(
        "asyncio.subprocess",
        "*",
        Harm::RunsProgram,
        "asyncio.create_subprocess_shell",
    ),
    gd(
        "asyncio.unix_events",
        "*",
        Harm::RunsProgram,
        "CVE-2025-10157 (_UnixSubprocessTransport)",
    ),
    gd(
        "shutil",
        "*",
        Harm::Files,
        "shutil.rmtree / copy (fickling #210)",
    ),
    gd("builtins", "exec", Harm::RunsCode, "builtins.exec"),
    gd(
        "builtins",
        "eval",
        Harm::RunsCode,
        "builtins.eval outside Paddle's static-tensor form",
    ),
    gd("builtins", "compile", Harm::RunsCode, "builtins.compile"),
    gd("builtins", "execfile", Harm::RunsCode, "Python 2 execfile"),
    gd("builtins", "getattr", Harm::Attributes, "builtins.getattr"),
    gd("builtins", "setattr", Harm::Attributes, "builtins.setattr"),
    gd("builtins", "delattr", Harm::Attributes, "builtins.delattr"),
    gd(
        "builtins",
        "__import__",
        Harm::Imports,
        "builtins.__import__",
    ),
    gd("builtins", "open", Harm::Files, "builtins.open"),
    gd("builtins", "file", Harm::Files, "Python 2 file"),
    gd("builtins", "globals", Harm::Interpreter, "builtins.globals"),
    gd("builtins", "locals", Harm::Interpreter, "builtins.locals"),
    gd("builtins", "vars", Harm::Interpreter, "builtins.vars"),
    gd(
        "builtins",
        "breakpoint",
        Harm::Interpreter,
        "builtins.breakpoint",
    ),
    gd("builtins", "input", Harm::Interpreter, "builtins.input"),
    gd("builtins", "exit", Harm::Interpreter, "builtins.exit"),
    gd("builtins", "quit", Harm::Interpreter, "builtins.quit"),
    gd(
        "builtins",
        "help",
        Harm::Interpreter,
        "builtins.help (pydoc's pager runs a program)",
    ),
    gd(
        "importlib",
        "*",
        Harm::Imports,
        "importlib.import_module (picklescan issue #66)",
    ),
    gd(
        "pkgutil",
        "resolve_name",
        Harm::Imports,
        "GHSA-vvpj-8cmc-gx39 (pkgutil.resolve_name: a universal bypass)",
    ),
    gd("pkgutil", "*", Harm::Imports, "pkgutil's import helpers"),
    gd(
        "pydoc",
        "*",
        Harm::Imports,
        "pydoc.locate resolves any dotted name; pydoc.pipepager runs a program",
    ),
    gd("runpy", "*", Harm::RunsCode, "runpy._run_code / run_path"),
    gd(
        "code",
        "*",
        Harm::RunsCode,
        "code.InteractiveInterpreter.runsource",
    ),
    gd("codeop", "*", Harm::RunsCode, "codeop.compile_command"),
    gd(
        "cProfile",
        "*",
        Harm::RunsCode,
        "GHSA-9w88-8rmg-7g2p (cProfile.run / runctx)",
    ),
    gd(
        "profile",
        "*",
        Harm::RunsCode,
        "GHSA-x696-vm39-cp64 (profile.Profile.run)",
    ),
    gd(
        "trace",
        "*",
        Harm::RunsCode,
        "GHSA-5qwp-399c-mjwf (trace.Trace.run)",
    ),
    gd(
        "timeit",
        "*",
        Harm::RunsCode,
        "GHSA-v7x6-rv5q-mhwc (timeit.timeit)",
    ),
    gd(
        "doctest",
        "*",
        Harm::RunsCode,
        "GHSA-fqq6-7vqf-w3fg (doctest.debug_script)",
    ),
    gd("pdb", "*", Harm::RunsCode, "pdb.run (fickling #210)"),
    gd("bdb", "*", Harm::RunsCode, "bdb.Bdb.run (fickling #210)"),
    gd(
        "idlelib",
        "*",
        Harm::RunsCode,
        "GHSA-m869-42cg-3xwr (idlelib.run.Executive.runcode) and others",
    ),
    gd(
        "lib2to3",
        "*",
        Harm::RunsCode,
        "GHSA-p9w7-82w4-7q8m (lib2to3.pgen2.pgen.ParserGenerator.make_label)",
    ),
    gd(
        "dataclasses",
        "_create_fn",
        Harm::RunsCode,
        "dataclasses._create_fn execs its text",
    ),
    gd(
        "typing",
        "_eval_type",
        Harm::RunsCode,
        "typing._eval_type evaluates a ForwardRef's text",
    ),
    gd(
        "typing",
        "ForwardRef",
        Harm::RunsCode,
        "typing.ForwardRef._evaluate evaluates text",
    ),
    gd(
        "uuid",
        "_get_command_stdout",
        Harm::RunsProgram,
        "uuid._get_command_stdout runs a command",
    ),
    gd(
        "ensurepip",
        "*",
        Harm::RunsProgram,
        "GHSA-xp4f-hrf8-rxw7 (ensurepip._run_pip)",
    ),
    gd(
        "pip",
        "*",
        Harm::RunsProgram,
        "CVE-2025-1716 (pip.main installs and runs a package)",
    ),
    gd("venv", "*", Harm::RunsProgram, "GHSA-vqmv-47xg-9wpr (venv)"),
    gd(
        "numpy.testing._private.utils",
        "runstring",
        Harm::RunsCode,
        "numpy.testing._private.utils.runstring execs its text",
    ),
    gd(
        "numpy.testing",
        "*",
        Harm::RunsCode,
        "numpy.testing's helpers (runstring, ...)",
    ),
    gd(
        "numpy.f2py",
        "*",
        Harm::RunsCode,
        "numpy.f2py.crackfortran eval (fickling #210)",
    ),
    gd(
        "numpy.distutils",
        "*",
        Harm::RunsProgram,
        "numpy.distutils exec_command",
    ),
    gd(
        "numpy",
        "load",
        Harm::Deserialises,
        "numpy.load(allow_pickle=True) loads another pickle",
    ),
    gd(
        "torch",
        "load",
        Harm::Deserialises,
        "torch.load loads another pickle",
    ),
    gd(
        "torch.utils.bottleneck",
        "*",
        Harm::RunsCode,
        "GHSA-4whj-rm5r-c2v8 (run_autograd_prof)",
    ),
    gd(
        "paddle.utils.download",
        "*",
        Harm::RunsProgram,
        "CVE-2023-52311 (paddle.utils.download._wget_download: command injection)",
    ),
    gd(
        "paddle.distributed.fleet.utils.fs",
        "*",
        Harm::RunsProgram,
        "CVE-2023-38673 (LocalFS / HDFSClient run shell commands)",
    ),
    gd(
        "paddle.distributed.fleet.utils",
        "LocalFS",
        Harm::RunsProgram,
        "CVE-2023-38673 (LocalFS runs shell commands)",
    ),
    gd(
        "paddle.distributed.fleet.utils",
        "HDFSClient",
        Harm::RunsProgram,
        "CVE-2023-38673 (HDFSClient runs shell commands)",
    ),
    gd(
        "distutils",
        "*",
        Harm::Files,
        "CVE-2025-10155 (distutils.file_util.write_file)",
    ),
    gd("io", "*", Harm::Files, "io.open / FileIO"),
    gd("_io", "*", Harm::Files, "CVE-2025-10156 (_io.FileIO)"),
    gd(
        "pathlib",
        "*",
        Harm::Files,
        "pathlib.Path.write_text / unlink",
    ),
    gd("tempfile", "*", Harm::Files, "tempfile"),
    gd("fileinput", "*", Harm::Files, "fileinput"),
    gd("glob", "*", Harm::Files, "glob"),
    gd(
        "marshal",
        "*",
        Harm::Deserialises,
        "marshal.loads (code objects)",
    ),
    gd(
        "pickle",
        "*",
        Harm::Deserialises,
        "picklescan PR #25 (nested pickle.loads)",
    ),
    gd(
        "_pickle",
        "*",
        Harm::Deserialises,
        "GHSA-84r2-jw7c-4r5q (nested pickle)",
    ),
    gd("shelve", "*", Harm::Deserialises, "shelve opens pickles"),
    gd("dill", "*", Harm::Deserialises, "dill loads code"),
    gd(
        "cloudpickle",
        "*",
        Harm::Deserialises,
        "cloudpickle loads code",
    ),
    gd(
        "joblib",
        "*",
        Harm::Deserialises,
        "joblib.load (nested pickle)",
    ),
    gd(
        "types",
        "*",
        Harm::RunsCode,
        "types.FunctionType / CodeType build functions from code",
    ),
    gd("ctypes", "*", Harm::NativeCode, "ctypes"),
    gd("_ctypes", "*", Harm::NativeCode, "ctypes"),
    gd("sys", "*", Harm::Interpreter, "sys.modules, sys.settrace"),
    gd(
        "gc",
        "*",
        Harm::Interpreter,
        "gc.get_objects reaches every object",
    ),
    gd(
        "inspect",
        "*",
        Harm::Interpreter,
        "inspect reaches frames and globals",
    ),
    gd("socket", "*", Harm::Network, "socket"),
    gd("ssl", "*", Harm::Network, "GHSA-hgrh-qx5j-jfwx"),
    gd(
        "http",
        "*",
        Harm::Network,
        "GHSA-hgrh-qx5j-jfwx (http.client)",
    ),
    gd("httplib", "*", Harm::Network, "GHSA-hgrh-qx5j-jfwx"),
    gd("urllib", "*", Harm::Network, "urllib.request.urlopen"),
    gd("urllib2", "*", Harm::Network, "Python 2 urllib2"),
    gd("requests", "*", Harm::Network, "GHSA-hgrh-qx5j-jfwx"),
    gd("aiohttp", "*", Harm::Network, "GHSA-hgrh-qx5j-jfwx"),
    gd("smtplib", "*", Harm::Network, "smtplib"),
    gd("ftplib", "*", Harm::Network, "ftplib"),
    gd("telnetlib", "*", Harm::Network, "telnetlib"),
    gd(
        "webbrowser",
        "*",
        Harm::RunsProgram,
        "webbrowser.open runs a browser",
    ),
    gd(
        "operator",
        "attrgetter",
        Harm::Calls,
        "GHSA-m273-6v24-x4m4 (operator.attrgetter)",
    ),
    gd("operator", "itemgetter", Harm::Calls, "GHSA-955r-x9j8-7rhh"),
    gd(
        "operator",
        "methodcaller",
        Harm::Calls,
        "GHSA-m273-6v24-x4m4",
    ),
    gd(
        "_operator",
        "*",
        Harm::Calls,
        "GHSA-955r-x9j8-7rhh (_operator)",
    ),
    gd(
        "functools",
        "partial",
        Harm::Calls,
        "functools.partial wrapper bypass (fickling #210)",
    ),
    gd("functools", "reduce", Harm::Calls, "functools.reduce"),
    gd(
        "copyreg",
        "*",
        Harm::Calls,
        "copyreg._reconstructor / extension registry",
    ),
    gd("copy_reg", "*", Harm::Calls, "Python 2 copyreg"),
    gd("site", "*", Harm::RunsCode, "site.execsitecustomize"),
    gd("sysconfig", "*", Harm::Interpreter, "sysconfig"),
];

/// Whether `module` is `m` or one of its submodules.
fn under(module: &str, m: &str) -> bool {
    module == m || (module.starts_with(m) && module.as_bytes().get(m.len()) == Some(&b'.'))
}

/// Well-known globals that run commands or arbitrary code: what they do. Every dotted
/// name (`eval.__self__.exec`, `testing._private.utils.runstring` under `numpy`) is one:
/// `find_class` walks it with `getattr`, so it reaches any attribute of the module.
pub fn danger(module: &str, name: &str) -> Option<&'static str> {
    let module = if module == "__builtin__" {
        "builtins"
    } else {
        module
    };
    let full = format!("{module}.{name}");
    for g in GADGETS {
        let name_hit = g.name == "*"
            || name == g.name
            || (name.starts_with(g.name) && name.as_bytes().get(g.name.len()) == Some(&b'.'));
        // `numpy` + `testing._private.utils.runstring` is numpy.testing….runstring.
        if (under(module, g.module) && name_hit)
            || (g.name != "*" && under(&full, &format!("{}.{}", g.module, g.name)))
            || (g.name == "*" && under(&full, g.module))
        {
            return Some(g.harm.text());
        }
    }
    if name.contains('.') {
        return Some("an attribute path: pickle.load walks it with getattr, reaching any attribute of the module (hence any function)");
    }
    None
}

/// How a global is classified for safety.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// On the allowlist: Paddle's or numpy's own, read as a symbol.
    PaddleOwn,
    /// Not on the allowlist: `pickle.load` would import it and may run it.
    Unsafe,
    /// Not on the allowlist, and a well-known way to run commands or code.
    Dangerous,
    /// STACK_GLOBAL whose module or name is not a string visible in the file.
    Unresolved,
}

/// What an allowlisted symbol is, for people.
pub fn meaning(sym: Sym) -> &'static str {
    match sym {
        Sym::Reconstruct => "numpy array reconstruction (ndarray.__reduce__)",
        Sym::Scalar => "numpy scalar reconstruction",
        Sym::NdArrayType => "the numpy.ndarray class (argument of _reconstruct)",
        Sym::DtypeType => "numpy dtype reconstruction",
        Sym::Tuple => "Paddle dynamic tensor: tuple(((name, array),))",
        Sym::Set => "set (protocol < 4 reduce form)",
        Sym::FrozenSet => "frozenset (protocol < 4 reduce form)",
        Sym::ByteArray => "bytearray (protocol < 5 reduce form)",
        Sym::Complex => "complex number (reduce form)",
        Sym::Bytes => "protocol-2 empty bytes: bytes()",
        Sym::OrderedDict => "OrderedDict",
        Sym::CodecsEncode => "protocol-2 bytes: _codecs.encode(text, 'latin1')",
        Sym::Eval => "Paddle static tensor: eval('data', {'data': array}) — safe only in this exact form, which the decoder checks",
        Sym::Checkpoint(_) => "Paddle distributed-checkpoint metadata dataclass — allowed only in a checkpoint's .metadata file, built by NEWOBJ () and BUILD of exactly its fields, which the decoder checks",
        Sym::ReconstructDenseTensor => "Paddle static tensor (next release): _reconstruct_dense_tensor_data(array), which returns the array",
    }
}

/// The verdict on one reference and its meaning in words.
pub fn classify(r: &GlobalRef) -> (Verdict, String) {
    if let Some(g) = r.allowed {
        if r.in_shape() {
            return (Verdict::PaddleOwn, meaning(g.sym).to_string());
        }
        let how = match (r.called, r.as_value) {
            (true, true) => "called, and also used as a value",
            (true, false) => "called (it is only ever an argument)",
            (false, true) => "used as a value, never called",
            (false, false) => "never used",
        };
        let why = if g.sym == Sym::Eval {
            "eval runs arbitrary Python code on pickle.load"
        } else {
            "a symbol outside the shape Paddle and numpy write"
        };
        let verdict = if g.sym == Sym::Eval {
            Verdict::Dangerous
        } else {
            Verdict::Unsafe
        };
        return (
            verdict,
            format!("allowlisted, but not in Paddle's form: {how} ({why})"),
        );
    }
    let (Some(m), Some(n)) = (r.module.as_deref(), r.name.as_deref()) else {
        return (
            Verdict::Unresolved,
            "STACK_GLOBAL on a module or name that is not a string in the file (computed at run time, a trick to hide a global from scanners): pickle.load would import and may run anything".into(),
        );
    };
    match danger(m, n) {
        Some(d) => (
            Verdict::Dangerous,
            format!("not Paddle's: {d}; would run code on pickle.load"),
        ),
        None => (
            Verdict::Unsafe,
            format!(
                "not Paddle's: would run code on pickle.load (imports {m}; {n} may then be called)"
            ),
        ),
    }
}
