//! `inspect` of an archive (spec/check.md C-ARCHIVE): the members read in memory, never
//! extracted; a model prefix among them read as its prefix, every other Paddle file as
//! itself, their variables as `MEMBER:PATH`.

use std::path::Path;

use super::{base, inspect_source, one_file, Options, Report};
use crate::paddle::classify::Finding;
use crate::rules::Rule;
use crate::source::{self, Form, Format, Source};

/// An archive (spec/check.md C-ARCHIVE): its members read in memory, never extracted;
/// the variables of each Paddle member as `MEMBER:PATH`, what makes extracting it unsafe
/// as warnings.
pub(super) fn archive_report(
    path: &Path,
    f: &source::File,
    opts: Options,
    done: &(dyn Fn(u64) + Sync),
) -> Report {
    let arch = source::archive::read(f, f.kind, &path.display().to_string());
    let mut r = base(
        path,
        Format::File(f.kind),
        "an archive (members read, not extracted)",
    );
    for p in arch.problems {
        r.warnings.push(Finding {
            rule: Rule::CArchive,
            path: p.member.unwrap_or_default(),
            message: format!("archive: {}", p.message),
            workaround: None,
            visible: true,
        });
    }
    let file = |m: source::archive::Member| source::File {
        path: m.name.clone().into(),
        kind: source::sniff(&m.data),
        data: crate::mapped::Mapped::from_vec(m.data),
    };
    let mut members: Vec<_> = arch
        .members
        .into_iter()
        .filter(|m| m.entry == source::archive::Entry::File)
        .collect();
    let add = |r: &mut Report, name: &str, sub: Report| {
        r.program = r.program.take().or(sub.program);
        for mut v in sub.variables {
            v.path = format!("{name}:{}", v.path);
            r.variables.push(v);
        }
        for mut w in sub.warnings {
            w.path = format!("{name}:{}", w.path);
            r.warnings.push(w);
        }
    };
    // A model prefix among the members (P.pdmodel or P.json, P.pdiparams, P.pdiparams.info):
    // read as paddle.load reads the prefix once extracted.
    use crate::names::{INFO_SUFFIX, PARAMS_SUFFIX, PROGRAM_SUFFIXES};
    let prefixes: Vec<String> = members
        .iter()
        .filter_map(|m| m.name.strip_suffix(PARAMS_SUFFIX).map(str::to_owned))
        .filter(|p| {
            members
                .iter()
                .any(|m| PROGRAM_SUFFIXES.iter().any(|s| m.name == format!("{p}{s}")))
        })
        .collect();
    for p in prefixes {
        let mut take = |suffix: &str| {
            let i = members
                .iter()
                .position(|m| m.name == format!("{p}{suffix}"))?;
            Some(file(members.remove(i)))
        };
        let Some(program) = PROGRAM_SUFFIXES.iter().find_map(|s| take(s)) else {
            continue;
        };
        let params = take(PARAMS_SUFFIX).ok_or(source::SourceError::NotFound(p.clone().into()));
        let info = take(INFO_SUFFIX);
        let src = Source {
            path: p.clone().into(),
            form: Form::Prefix {
                program,
                params,
                info,
            },
        };
        match inspect_source(&src, opts, done) {
            Ok(sub) => add(&mut r, &p, sub),
            Err(e) => r.warnings.push(Finding {
                rule: Rule::CArchive,
                path: p.clone(),
                message: format!("archive: a model prefix that cannot be read: {e}"),
                workaround: None,
                visible: true,
            }),
        }
    }
    for m in members {
        let name = m.name.clone();
        let mf = file(m);
        // Not a Paddle file (a README, a config): left out.
        if let Ok(sub) = one_file(&mf.path, &mf, opts, done) {
            add(&mut r, &name, sub);
        }
    }
    r
}
