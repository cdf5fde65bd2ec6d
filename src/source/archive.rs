//! The members of an archive a model is published in (`*_infer.tar`, `.tar.gz` / `.tgz`,
//! `.zip`, a lone `.gz`), read in memory and never extracted, with what would make
//! extracting it unsafe or misleading (spec/check.md C-ARCHIVE): names that leave the
//! extraction directory, links and special members, names given twice, members whose
//! bytes are not what their names say, and archives past the limits. Which file is an
//! archive is [`super::sniff`]'s answer (zip, tar, gzip); each member is sniffed the same
//! way as a file on disk.

use std::io::Read;

use super::sniff::{sniff, Kind};

/// Members read at most.
pub const MAX_MEMBERS: usize = 10_000;
/// Bytes unpacked at most (all members together).
pub const MAX_UNPACKED: u64 = 4 << 30;
/// A gzip stream may unpack to at most this many times its size (plus 1 MiB).
pub const MAX_RATIO: u64 = 1000;
/// Archives inside archives followed at most.
pub const MAX_NESTING: usize = 3;

/// What a member is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    File,
    Dir,
    /// A symbolic link, to this target.
    Symlink(String),
    /// A hard link, to this member.
    Hardlink(String),
    /// A device, FIFO or other special member.
    Special(&'static str),
}

/// One member: its name as stored, what it is, and (files) its bytes.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub entry: Entry,
    pub data: Vec<u8>,
}

impl Member {
    /// The kind of a file member's bytes ([`sniff`]).
    pub fn kind(&self) -> Option<Kind> {
        (self.entry == Entry::File).then(|| sniff(&self.data))
    }
}

/// Something about an archive that makes extracting it unsafe or misleading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The member it is about (`None`: the archive itself).
    pub member: Option<String>,
    pub message: String,
}

/// An archive's members, in stored order, and its problems.
#[derive(Clone, Debug, Default)]
pub struct Archive {
    pub members: Vec<Member>,
    pub problems: Vec<Problem>,
}

/// What a name says a file is: in words, and the test of a [`Kind`].
type Expected = (&'static str, fn(Kind) -> bool);

/// What a member name says its bytes are, for the names Paddle models use.
fn expected(name: &str) -> Option<Expected> {
    let n = name.to_ascii_lowercase();
    let pickle: fn(Kind) -> bool = |k| k.is_pickle();
    use crate::names::{INFO_SUFFIX, MODEL_FILE, PARAMS_SUFFIX, PROGRAM_SUFFIX};
    Some(
        if n.ends_with(INFO_SUFFIX)
            || n.ends_with(".pdparams")
            || n.ends_with(".pdopt")
            || n.ends_with(".pkl")
        {
            ("a pickle", pickle)
        } else if n.ends_with(PARAMS_SUFFIX) {
            ("tensor records", |k| {
                matches!(
                    k,
                    Kind::CombinedParams { .. } | Kind::TensorStream | Kind::Empty
                )
            })
        } else if n.ends_with(PROGRAM_SUFFIX) || n.ends_with(MODEL_FILE) {
            ("a ProgramDesc program", |k| k == Kind::ProgramDesc)
        } else if n.ends_with(".safetensors") {
            ("a safetensors file", |k| k == Kind::Safetensors)
        } else if n.ends_with(".npz") || n.ends_with(".zip") {
            ("a zip archive", |k| k == Kind::Zip)
        } else if n.ends_with(".tar") {
            ("a tar archive", |k| k == Kind::Tar)
        } else if n.ends_with(".gz") || n.ends_with(".tgz") {
            ("a gzip file", |k| k == Kind::Gzip)
        } else {
            return None;
        },
    )
}

/// Why a member name is unsafe to extract, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let drive =
        name.len() >= 2 && name.as_bytes()[1] == b':' && name.as_bytes()[0].is_ascii_alphabetic();
    if name.starts_with('/') || name.starts_with('\\') || drive {
        return Some("an absolute name: extraction writes outside the target directory");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Some("a name with `..`: extraction writes outside the target directory");
    }
    if name.contains('\0') {
        return Some("a name with a NUL byte");
    }
    None
}

struct Reader {
    out: Archive,
    unpacked: u64,
    limit: u64,
}

impl Reader {
    fn problem(&mut self, member: Option<&str>, message: String) {
        self.out.problems.push(Problem {
            member: member.map(str::to_owned),
            message,
        });
    }

    /// Room for `n` more bytes; records the problem and says no when there is none.
    fn room(&mut self, n: u64) -> bool {
        if self.unpacked.saturating_add(n) > self.limit {
            let l = self.limit;
            self.problem(
                None,
                format!("unpacks to more than {l} bytes: the rest is not read (a decompression bomb, or too large to check in memory)"),
            );
            return false;
        }
        self.unpacked += n;
        true
    }

    fn push(&mut self, m: Member) -> bool {
        if self.out.members.len() >= MAX_MEMBERS {
            self.problem(
                None,
                format!("more than {MAX_MEMBERS} members: the rest is not read"),
            );
            return false;
        }
        if let Some(why) = unsafe_name(&m.name) {
            self.problem(Some(&m.name), why.into());
        }
        match &m.entry {
            Entry::Symlink(t) => self.problem(
                Some(&m.name),
                format!("a symbolic link to {t:?}: extracting it can make later members write anywhere, and a model has none"),
            ),
            Entry::Hardlink(t) => self.problem(
                Some(&m.name),
                format!("a hard link to {t:?}: extraction links or overwrites another file, and a model has none"),
            ),
            Entry::Special(what) => {
                self.problem(Some(&m.name), format!("a {what}, not a file: a model has none"))
            }
            Entry::Dir | Entry::File => {}
        }
        let norm = m.name.trim_start_matches("./").trim_end_matches('/');
        if m.entry != Entry::Dir
            && self.out.members.iter().any(|o| {
                o.entry != Entry::Dir
                    && o.name.trim_start_matches("./").trim_end_matches('/') == norm
            })
        {
            self.problem(
                Some(&m.name),
                "a name given twice: extraction keeps the later member, a listing may show the earlier".into(),
            );
        }
        if let (Some((what, ok)), Some(k)) = (expected(&m.name), m.kind()) {
            if !ok(k) {
                self.problem(
                    Some(&m.name),
                    format!("named as {what} but holds {}", k.describe()),
                );
            }
        }
        self.out.members.push(m);
        true
    }

    fn tar(&mut self, data: &[u8]) {
        let mut a = tar::Archive::new(std::io::Cursor::new(data));
        let entries = match a.entries() {
            Ok(e) => e,
            Err(e) => return self.problem(None, format!("not a readable tar archive: {e}")),
        };
        for e in entries {
            let mut e = match e {
                Ok(e) => e,
                Err(e) => {
                    return self.problem(None, format!("tar archive cut short or broken: {e}"))
                }
            };
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let link = || {
                e.link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            };
            use tar::EntryType as T;
            let t = e.header().entry_type();
            let entry = match t {
                T::Regular | T::Continuous | T::GNUSparse => Entry::File,
                T::Directory => Entry::Dir,
                T::Symlink => Entry::Symlink(link()),
                T::Link => Entry::Hardlink(link()),
                T::Char => Entry::Special("character device"),
                T::Block => Entry::Special("block device"),
                T::Fifo => Entry::Special("FIFO"),
                _ => Entry::Special("special tar member"),
            };
            let mut bytes = Vec::new();
            if entry == Entry::File {
                let size = e.size();
                if !self.room(size) {
                    return;
                }
                bytes.reserve(size.min(data.len() as u64) as usize);
                if let Err(err) = e.read_to_end(&mut bytes) {
                    self.problem(Some(&name), format!("cannot be read: {err}"));
                }
            }
            if !self.push(Member {
                name,
                entry,
                data: bytes,
            }) {
                return;
            }
        }
    }

    fn zip(&mut self, data: &[u8]) {
        let mut z = match zip::ZipArchive::new(std::io::Cursor::new(data)) {
            Ok(z) => z,
            Err(e) => return self.problem(None, format!("not a readable zip archive: {e}")),
        };
        for i in 0..z.len() {
            let mut f = match z.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.problem(None, format!("member {i} cannot be read: {e}"));
                    continue;
                }
            };
            let name = String::from_utf8_lossy(f.name_raw()).into_owned();
            let mode = f.unix_mode().unwrap_or(0);
            let entry = match mode & 0o170000 {
                0o120000 => Entry::Symlink(String::new()),
                0o060000 | 0o020000 | 0o010000 | 0o140000 => Entry::Special("special zip member"),
                _ if f.is_dir() => Entry::Dir,
                _ => Entry::File,
            };
            let mut bytes = Vec::new();
            if matches!(entry, Entry::File | Entry::Symlink(_)) {
                let size = f.size();
                if !self.room(size) {
                    return;
                }
                let mut lim = (&mut f).take(size);
                if let Err(err) = lim.read_to_end(&mut bytes) {
                    self.problem(Some(&name), format!("cannot be read: {err}"));
                }
            }
            let entry = match entry {
                Entry::Symlink(_) => Entry::Symlink(String::from_utf8_lossy(&bytes).into_owned()),
                e => e,
            };
            if !self.push(Member {
                name,
                entry,
                data: bytes,
            }) {
                return;
            }
        }
    }
}

/// Reads an archive's members (`kind`: what [`sniff`] said of `data`: zip, tar or gzip;
/// `name`: the archive's file name, which names a lone gzip's one member).
pub fn read(data: &[u8], kind: Kind, name: &str) -> Archive {
    let mut r = Reader {
        out: Archive::default(),
        unpacked: 0,
        limit: MAX_UNPACKED,
    };
    match kind {
        Kind::Tar => r.tar(data),
        Kind::Zip => r.zip(data),
        Kind::Gzip => {
            let limit = (data.len() as u64)
                .saturating_mul(MAX_RATIO)
                .saturating_add(1 << 20)
                .min(MAX_UNPACKED);
            let mut out = Vec::new();
            let mut d = flate2::read::MultiGzDecoder::new(data).take(limit + 1);
            if let Err(e) = d.read_to_end(&mut out) {
                r.problem(None, format!("gzip stream broken or cut short: {e}"));
            }
            if out.len() as u64 > limit {
                out.truncate(limit as usize);
                r.problem(None, format!("unpacks to more than {limit} bytes ({MAX_RATIO} times its size, or {MAX_UNPACKED}): the rest is not read (a decompression bomb?)"));
            }
            if sniff(&out) == Kind::Tar {
                r.limit = limit;
                r.tar(&out);
            } else {
                let base = name.rsplit('/').next().unwrap_or(name);
                let inner = base
                    .strip_suffix(".tgz")
                    .map(|s| format!("{s}.tar"))
                    .or_else(|| base.strip_suffix(".gz").map(str::to_owned))
                    .unwrap_or_else(|| format!("{base}.unpacked"));
                r.push(Member {
                    name: inner,
                    entry: Entry::File,
                    data: out,
                });
            }
        }
        _ => r.problem(None, "not an archive".into()),
    }
    r.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(members: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, t, data, link) in members {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*t);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Names are written raw: the builder's own path checks would refuse `../`.
            let raw = &mut h.as_gnu_mut().unwrap().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            if !link.is_empty() {
                h.set_link_name(link).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn traversal_links_duplicates_and_lying_names_are_problems() {
        use tar::EntryType as T;
        let pickle = b"\x80\x04N.";
        let t = tar_of(&[
            ("m/model.pdparams", T::Regular, pickle, ""),
            ("../evil.pdparams", T::Regular, pickle, ""),
            ("/etc/x", T::Regular, b"x", ""),
            ("m/link", T::Symlink, b"", "/etc/passwd"),
            ("m/hard", T::Link, b"", "m/model.pdparams"),
            ("m/model.pdparams", T::Regular, pickle, ""),
            ("m/fake.pdmodel", T::Regular, pickle, ""),
        ]);
        assert_eq!(sniff(&t), Kind::Tar);
        let a = read(&t, Kind::Tar, "m.tar");
        assert_eq!(a.members.len(), 7);
        let got: Vec<(&str, &str)> = a
            .problems
            .iter()
            .map(|p| (p.member.as_deref().unwrap(), &p.message[..20]))
            .collect();
        assert_eq!(
            got,
            [
                ("../evil.pdparams", "a name with `..`: ex"),
                ("/etc/x", "an absolute name: ex"),
                ("m/link", "a symbolic link to \""),
                ("m/hard", "a hard link to \"m/mo"),
                ("m/model.pdparams", "a name given twice: "),
                ("m/fake.pdmodel", "named as a ProgramDe"),
            ]
        );
    }

    #[test]
    fn gzip_of_a_tar_and_a_bomb() {
        use std::io::Write;
        let t = tar_of(&[("a.pdparams", tar::EntryType::Regular, b"\x80\x04N.", "")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&t).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(sniff(&gz), Kind::Gzip);
        let a = read(&gz, Kind::Gzip, "m.tar.gz");
        assert_eq!((a.members.len(), a.problems.len()), (1, 0));
        assert_eq!(
            a.members[0].kind(),
            Some(Kind::Pickle { protocol: Some(4) })
        );
        // 1 GiB of zeros gzips to ~1 MiB: past 1000:1 + 1 MiB it stops.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(1 << 10) {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        let a = read(&bomb, Kind::Gzip, "x.gz");
        assert!(
            a.problems[0].message.starts_with("unpacks to more than"),
            "{:?}",
            a.problems
        );
        assert!(a.members[0].data.len() as u64 <= bomb.len() as u64 * MAX_RATIO + (1 << 20));
    }
}
