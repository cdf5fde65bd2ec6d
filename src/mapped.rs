//! A file's bytes for decoding: memory-mapped (read-only), so decoders borrow tensor
//! payloads from the page cache instead of copying them (gimli-style borrowed data).
//! A writer handed such borrowed bytes can copy them file to file in the kernel
//! ([`write_borrowed`]: `copy_file_range`), never touching the pages itself.

use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The live maps: (start address, length, the mapped file).
static MAPS: Mutex<Vec<(usize, usize, Arc<std::fs::File>)>> = Mutex::new(Vec::new());

/// The bytes of one file, mapped when the file can be mapped (a regular file), read
/// into memory otherwise (a pipe, `/dev/stdin`, a procfs file).
pub struct Mapped(Inner);

enum Inner {
    /// The map; the registry ([`MAPS`]) holds the file while it lives.
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if let Inner::Map(m) = &self.0 {
            let start = m.as_ptr() as usize;
            if let Ok(mut maps) = MAPS.lock() {
                maps.retain(|(s, _, _)| *s != start);
            }
        }
    }
}

/// The file and offset `b` is mapped from, when it lies in a live map.
fn locate(b: &[u8]) -> Option<(Arc<std::fs::File>, u64)> {
    let p = b.as_ptr() as usize;
    let maps = MAPS.lock().ok()?;
    maps.iter()
        .find(|(s, l, _)| p >= *s && p + b.len() <= s + l)
        .map(|(s, _, f)| (f.clone(), (p - s) as u64))
}

/// Asks the kernel to read `b`'s pages ahead (`MADV_WILLNEED`) when it lies in a live
/// map: a reader about to copy every byte of a range of a map opened for its structure
/// (which reads no further than it touches). A hint: failures are ignored.
pub fn prefetch(b: &[u8]) {
    advise(b, libc::MADV_WILLNEED)
}

/// Hands the pages of `b` back when it lies in a live map (`MADV_DONTNEED` on the whole
/// pages inside it): the bytes stay in the page cache and are read again if touched, but
/// no longer count in this process's memory. A hint: failures are ignored.
pub fn release(b: &[u8]) {
    advise(b, libc::MADV_DONTNEED)
}

fn advise(b: &[u8], advice: libc::c_int) {
    if locate(b).is_none() {
        return;
    }
    let page = 4096usize;
    let start = (b.as_ptr() as usize).div_ceil(page) * page;
    let end = (b.as_ptr() as usize + b.len()) / page * page;
    if end > start {
        // SAFETY: the range is whole pages inside a live read-only file mapping; the
        // advice only changes when the (unchanged) file pages are read or mapped again.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, advice);
        }
    }
}

/// Writes `b` at `out`'s position: copied in the kernel from the file it is mapped from
/// (`copy_file_range`) when it is borrowed from a live map, else written. The caller has
/// flushed any buffer in front of `out`.
pub fn write_borrowed(out: &mut std::fs::File, b: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some((src, mut off)) = locate(b) {
        let mut left = b.len();
        while left > 0 {
            let mut o = off as libc::loff_t;
            // SAFETY: both descriptors are open files owned by this process for the call;
            // the kernel reads `left` bytes from `src` at `o` and writes them at `out`'s
            // position.
            let n = unsafe {
                libc::copy_file_range(
                    src.as_raw_fd(),
                    &mut o,
                    out.as_raw_fd(),
                    std::ptr::null_mut(),
                    left,
                    0,
                )
            };
            if n <= 0 {
                // Not supported here (another filesystem, an old kernel): write the rest.
                let done = b.len() - left;
                return out.write_all(&b[done..]);
            }
            left -= n as usize;
            off += n as u64;
        }
        return Ok(());
    }
    out.write_all(b)
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
        let f = std::fs::File::open(path)?;
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
                if !whole {
                    // A reader of the structure only: no readahead or fault-around, so the
                    // payload pages it skips are never mapped into this process.
                    let _ = m.advise(memmap2::Advice::Random);
                }
                if let Ok(mut maps) = MAPS.lock() {
                    maps.push((m.as_ptr() as usize, m.len(), Arc::new(f)));
                }
                return Ok(Mapped(Inner::Map(m)));
            }
        }
        let mut v = Vec::new();
        let mut f = f;
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
