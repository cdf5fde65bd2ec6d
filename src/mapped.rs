//! A file's bytes for decoding: memory-mapped (read-only), so decoders borrow tensor
//! payloads from the page cache instead of copying them (gimli-style borrowed data).

use std::io::Read;
use std::path::Path;

/// The bytes of one file, mapped when the file can be mapped (a regular file), read
/// into memory otherwise (a pipe, `/dev/stdin`, a procfs file).
pub struct Mapped(Inner);

enum Inner {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Mapped {
    /// Opens and maps `path`.
    ///
    /// ```
    /// let m = pdsave::mapped::Mapped::open("corpus/cases/y_p3_proto4_linear_state_dict/model.pdparams".as_ref())
    ///     .unwrap();
    /// let v = pdsave::paddle::file::load_file_bytes(&m, Default::default()).unwrap();
    /// assert_eq!(v.root().type_name(), "dict");
    /// ```
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        Mapped::open_with(path, false)
    }

    /// Opens and maps `path` for a reader that will touch every byte (hashing, copying):
    /// the mapping is populated up front (`MAP_POPULATE`), which costs one pass over the
    /// page tables instead of one page fault per 4 KiB page.
    pub fn open_whole(path: &Path) -> std::io::Result<Mapped> {
        Mapped::open_with(path, true)
    }

    fn open_with(path: &Path, whole: bool) -> std::io::Result<Mapped> {
        let mut f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        if meta.is_file() {
            if meta.len() == 0 {
                return Ok(Mapped(Inner::Owned(Vec::new())));
            }
            // SAFETY: the map is read-only and lives as long as the borrowed bytes; a file
            // truncated by another process meanwhile is outside what a reader can defend
            // against (SIGBUS), as for every mmap-based reader.
            let mut o = memmap2::MmapOptions::new();
            if whole {
                o.populate();
            }
            if let Ok(m) = unsafe { o.map(&f) } {
                return Ok(Mapped(Inner::Map(m)));
            }
        }
        let mut v = Vec::new();
        f.read_to_end(&mut v)?;
        Ok(Mapped(Inner::Owned(v)))
    }

    /// Bytes already in memory (tests, adapters).
    pub fn from_vec(v: Vec<u8>) -> Mapped {
        Mapped(Inner::Owned(v))
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Inner::Map(m) => m,
            Inner::Owned(v) => v,
        }
    }
}
