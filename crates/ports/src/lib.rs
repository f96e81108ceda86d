//! Local TCP ports for child processes and test peers, safe under parallel tests: one
//! allocator that no two processes (or threads) can be handed the same port from.
//!
//! Binding port 0 and closing the socket before a child binds the port (the old `free_port`)
//! races: between the close and the child's bind, the kernel may hand the same port to another
//! test's `bind(0)`. Where a child can bind port 0 itself and report the address it bound, it
//! does (anvil: `tandem_devnet::anvil::spawn_anvil`). Where the port must be known before the child
//! starts (a member's P2P address is registered on L1 before its node runs), ports come from
//! this allocator:
//!
//! - it hands out ports only from a range below the kernel's ephemeral range
//!   (`/proc/sys/net/ipv4/ip_local_port_range`), which `bind(0)` and outgoing connections never
//!   use, so no OS-chosen port collides with one of ours;
//! - the range is split into blocks of [`BLOCK`] ports; a process owns a block by holding an
//!   exclusive `flock` on `$TMPDIR/tandem-devnet-ports/block-<first port>.lock` for its whole
//!   life (the kernel drops the lock when the process exits, even on SIGKILL, so no lock goes
//!   stale), so two test processes never hand out the same port;
//! - within the process, a port is handed out once (never reused), and only if it can be bound
//!   right now (something outside this scheme may hold it).

use std::fs::File;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Mutex;

/// Why no port could be handed out.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The lock file of a port block could not be opened or created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// No block of ports could be reserved, or the request cannot be met.
    #[error("no free port: {0}")]
    NoPort(String),
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> PortError {
    move |source| PortError::Io { what, source }
}

/// Ports per reserved block.
pub const BLOCK: u16 = 64;
/// Lowest port the allocator uses.
const RANGE_START: u16 = 20_000;
/// The range's end when the ephemeral range cannot be read (Linux's default start).
const DEFAULT_EPHEMERAL_START: u16 = 32_768;

struct Allocator {
    /// Held locks of the reserved blocks (released when the process exits).
    locks: Vec<File>,
    /// Next unused port of the newest block, and the block's end (exclusive).
    next: u16,
    end: u16,
}

static ALLOCATOR: Mutex<Allocator> = Mutex::new(Allocator { locks: Vec::new(), next: 0, end: 0 });

fn range_end() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next().and_then(|lo| lo.parse::<u16>().ok()))
        .unwrap_or(DEFAULT_EPHEMERAL_START)
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("tandem-devnet-ports")
}

/// Takes the exclusive lock of the block at `start`, if no other process holds it.
fn try_lock(start: u16) -> Result<Option<File>, PortError> {
    let path = lock_dir().join(format!("block-{start}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("opening {}", path.display())))?;
    // SAFETY: flock on a file descriptor this function owns; no memory is shared.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    Ok(locked.then_some(file))
}

impl Allocator {
    /// Reserves a further block, starting the search at a place that depends on the process
    /// id (so parallel processes rarely contend for the same lock).
    fn reserve_block(&mut self) -> Result<(), PortError> {
        std::fs::create_dir_all(lock_dir()).map_err(io(format!("creating {}", lock_dir().display())))?;
        let end = range_end();
        if end < RANGE_START + BLOCK {
            return Err(PortError::NoPort(format!(
                "the ephemeral port range starts at {end}, leaving no room below it from {RANGE_START}"
            )));
        }
        let blocks = (end - RANGE_START) / BLOCK;
        let first = (std::process::id() as u16) % blocks;
        for k in 0..blocks {
            let start = RANGE_START + ((first + k) % blocks) * BLOCK;
            // A block this process holds already fails here too (flock excludes every other
            // open file description, in this process or another).
            if let Some(lock) = try_lock(start)? {
                self.locks.push(lock);
                self.next = start;
                self.end = start + BLOCK;
                return Ok(());
            }
        }
        Err(PortError::NoPort(format!("all {blocks} blocks of {BLOCK} ports from {RANGE_START} are held by other processes")))
    }

    /// `n` consecutive ports that can all be bound now.
    fn take(&mut self, n: u16) -> Result<u16, PortError> {
        if n == 0 || n > BLOCK {
            return Err(PortError::NoPort(format!("{n} consecutive ports asked; 1 to {BLOCK} can be given")));
        }
        // Each reservation gives a fresh block, so this ends (or fails in reserve_block).
        loop {
            while self.next + n <= self.end {
                let first = self.next;
                self.next += 1;
                if (first..first + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
                    self.next = first + n;
                    return Ok(first);
                }
            }
            self.reserve_block()?;
        }
    }
}

/// A port no other process using this allocator is given and that can be bound now.
pub fn free_port() -> Result<u16, PortError> {
    free_ports(1)
}

/// The first of `n` (at most [`BLOCK`]) consecutive ports, each as [`free_port`].
pub fn free_ports(n: u16) -> Result<u16, PortError> {
    let mut allocator = ALLOCATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    allocator.take(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..(2 * BLOCK) {
            let p = free_port().expect("port");
            assert!(p >= RANGE_START && p < range_end(), "{p}");
            assert!(seen.insert(p), "{p} given twice");
        }
        let first = free_ports(5).expect("ports");
        for p in first..first + 5 {
            assert!(seen.insert(p), "{p} given twice");
            TcpListener::bind(("127.0.0.1", p)).expect("bindable");
        }
        assert!(free_ports(BLOCK + 1).is_err());
    }

    #[test]
    fn a_reserved_block_cannot_be_locked_by_anyone_else() {
        let port = free_port().expect("port");
        let start = RANGE_START + (port - RANGE_START) / BLOCK * BLOCK;
        // flock excludes every other open file description of the lock file: another test
        // process opening it fails exactly like this.
        assert!(try_lock(start).expect("lock file").is_none(), "block {start} of port {port} is not exclusively held");
        let output = std::process::Command::new("flock")
            .args(["-n", lock_dir().join(format!("block-{start}.lock")).to_str().expect("utf8"), "true"])
            .output()
            .expect("flock(1)");
        assert!(!output.status.success(), "another process took the lock of block {start}");
    }
}
