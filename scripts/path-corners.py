#!/usr/bin/env python3
"""Path-form corner cases of paddle.load (spec/versions.md V-PREFIX, V-DIR, L-FILE), as a
release raises them: builds each case from corpus files, loads it with the running
Paddle in a fresh process, and writes the Python class (or "crash" / the value's type) to
corpus/versions/path-corners/<release>.json. tests/versions.rs builds the same cases and
checks pdsave's view with --paddle <release>.

    <paddle venv python> scripts/path-corners.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C = os.path.join(ROOT, "corpus", "cases")


def build(root, fam):
    """The cases, as tests/versions.rs builds them: name -> path."""
    cases = {}
    static = "y_p2_static_save_pdmodel" if fam == "p2" else "y_p3_legacy_static_save_pdmodel"
    shutil.copytree(os.path.join(C, static), os.path.join(root, "A"))
    cases["static_save_prefix_without_pdiparams"] = os.path.join(root, "A", "model")
    shutil.copytree(os.path.join(C, "y_p3_pir_static_save_json"), os.path.join(root, "B"))
    cases["pir_static_save_prefix"] = os.path.join(root, "B", "model")
    with zipfile.ZipFile(os.path.join(root, "c.pdparams"), "w") as f:
        f.writestr("a.txt", "hello")
    cases["zip_named_pdparams"] = os.path.join(root, "c.pdparams")
    inf = os.path.join(C, "y_p2_inference_model_dir" if fam == "p2" else "y_p3_legacy_inference_model_dir", "model")
    for name, extra in [("dir_with_stray_readme", "readme.txt"), ("dir_with_sub_model_txt", "sub/model.txt")]:
        d = os.path.join(root, name)
        shutil.copytree(inf, d)
        os.makedirs(os.path.dirname(os.path.join(d, extra)), exist_ok=True)
        open(os.path.join(d, extra), "w").write("hi")
        cases[name] = d
    d = os.path.join(root, "dir_missing_variable_file")
    shutil.copytree(inf, d)
    os.remove(os.path.join(d, sorted(x for x in os.listdir(d) if x != "__model__")[0]))
    cases["dir_missing_variable_file"] = d
    sv = os.path.join(C, "y_p2_save_vars_dir" if fam == "p2" else "y_p3_legacy_save_vars_dir", "model")
    d = os.path.join(root, "vars_dir_with_stray_readme")
    shutil.copytree(sv, d)
    open(os.path.join(d, "readme.txt"), "w").write("hi")
    cases["vars_dir_with_stray_readme"] = d
    return cases


def main():
    import paddle

    out = {}
    for fam in ("p2", "p3"):
        with tempfile.TemporaryDirectory(prefix="pdsave_corners_") as root:
            for name, path in build(root, fam).items():
                r = subprocess.run([sys.executable, "-c", f"""
import json, paddle
try:
    v = paddle.load({path!r}); print(json.dumps(type(v).__name__ + (' ' + str(len(v)) if isinstance(v, dict) else '')))
except Exception as e:
    print(json.dumps('error ' + type(e).__name__))
"""], capture_output=True, text=True)
                lines = r.stdout.strip().splitlines()
                out[f"{fam}/{name}"] = json.loads(lines[-1]) if lines else "crash"
    d = os.path.join(ROOT, "corpus", "versions", "path-corners")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{paddle.__version__}.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
