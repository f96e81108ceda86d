//! Supervised child processes: each writes to its own log file, dies with its parent, is
//! checked for an early exit while the devnet waits for it, and is stopped with SIGTERM, then
//! SIGKILL after a grace period, when it is dropped (so a failing test or devnet start leaves
//! no child behind).

use crate::error::DevnetError;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a process has between SIGTERM and SIGKILL, unless set otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The last `lines` lines of the file at `path` (empty if it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A child process with its log; stopped (SIGTERM, then SIGKILL after the grace period) on
/// drop. Invariant: `child` is `Some` while the process may be running and has not been reaped.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    child: Option<Child>,
    log: PathBuf,
    grace: Duration,
    exit: Option<ExitStatus>,
}

impl Supervised {
    /// Spawns `cmd` as `name` with stdin closed and stdout and stderr appended to `log`;
    /// `NO_COLOR=1` keeps the log plain. On Linux the child gets SIGTERM if this process dies
    /// without stopping it.
    pub fn spawn(name: impl Into<String>, mut cmd: Command, log: &Path) -> Result<Self, DevnetError> {
        let name = name.into();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(DevnetError::io(format!("opening the log {}", log.display())))?;
        let err = file.try_clone().map_err(DevnetError::io(format!("opening the log {}", log.display())))?;
        cmd.env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::from(file)).stderr(Stdio::from(err));
        die_with_parent(&mut cmd);
        let child = cmd.spawn().map_err(DevnetError::io(format!("starting {name} ({:?})", cmd.get_program())))?;
        Ok(Self { name, child: Some(child), log: log.to_path_buf(), grace: DEFAULT_GRACE, exit: None })
    }

    /// Sets the time between SIGTERM and SIGKILL when stopping.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The name it was started under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The OS process id while it has not been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its exit status, if it exited (reaping it).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if let Some(child) = self.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                self.exit = Some(status);
                self.child = None;
            }
        }
        self.exit
    }

    /// Whether it still runs.
    pub fn is_running(&mut self) -> bool {
        self.try_exit().is_none() && self.child.is_some()
    }

    /// An [`DevnetError::Exited`] (with the log's tail) if it exited.
    pub fn check_alive(&mut self) -> Result<(), DevnetError> {
        match self.try_exit() {
            Some(status) => Err(self.exited_error(status)),
            None => Ok(()),
        }
    }

    fn exited_error(&self, status: ExitStatus) -> DevnetError {
        DevnetError::Exited { name: self.name.clone(), status: status.to_string(), log: self.log.clone(), tail: tail(&self.log, 30) }
    }

    /// Waits (polling, without blocking the runtime) until it exits; the error says how.
    pub async fn exited(&mut self) -> DevnetError {
        loop {
            if let Some(status) = self.try_exit() {
                return self.exited_error(status);
            }
            if self.child.is_none() {
                return DevnetError::Exited {
                    name: self.name.clone(),
                    status: "stopped".into(),
                    log: self.log.clone(),
                    tail: String::new(),
                };
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Sends SIGTERM unless it exited.
    pub fn terminate(&mut self) {
        if self.is_running() {
            if let Some(pid) = self.pid() {
                // SAFETY: kill(2) on our own unreaped child's pid.
                unsafe {
                    libc::kill(pid as i32, libc::SIGTERM);
                }
            }
        }
    }

    /// SIGKILL now and reap (what a crash looks like to the process).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            self.exit = child.wait().ok();
        }
    }

    /// After [`Self::terminate`]: waits up to the grace period for the exit, then SIGKILLs.
    pub async fn reap(&mut self) {
        let deadline = Instant::now() + self.grace;
        while self.is_running() {
            if Instant::now() >= deadline {
                tracing::warn!("{} did not stop within {:?} of SIGTERM: killing it", self.name, self.grace);
                self.kill();
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then SIGKILL after the grace period.
    pub async fn stop(&mut self) {
        self.terminate();
        self.reap().await;
    }

    /// [`Self::stop`], blocking the thread (for `Drop`).
    fn stop_blocking(&mut self) {
        self.terminate();
        let deadline = Instant::now() + self.grace;
        while self.is_running() {
            if Instant::now() >= deadline {
                self.kill();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl in the forked child before exec touches no shared state.
        unsafe {
            // The child gets SIGTERM if this process dies without stopping it (e.g. SIGKILL).
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }
}

/// Polls `probe` until it returns a value, failing early if any of `processes` exits and with
/// [`DevnetError::NotReady`] after `timeout`.
pub async fn wait_ready<T>(
    what: &str,
    timeout: Duration,
    processes: &mut [&mut Supervised],
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> Result<T, DevnetError> {
    let deadline = Instant::now() + timeout;
    loop {
        for p in processes.iter_mut() {
            p.check_alive()?;
        }
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(DevnetError::NotReady { what: what.to_string(), timeout });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_exit_is_reported_with_the_log_and_drop_stops_a_running_child() {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("p.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo about to fail; exit 3"]);
        let mut p = Supervised::spawn("failing", cmd, &log).expect("spawn");
        let err = p.exited().await;
        assert!(matches!(&err, DevnetError::Exited { name, tail, .. } if name == "failing" && tail == "about to fail"), "{err}");
        let err = wait_ready::<()>("never", Duration::from_secs(5), &mut [&mut p], async || None).await;
        assert!(matches!(err, Err(DevnetError::Exited { .. })));

        // A child that ignores SIGTERM is SIGKILLed after the grace period.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' TERM; echo up; exec sleep 30"]);
        let mut stubborn = Supervised::spawn("stubborn", cmd, &log).expect("spawn").with_grace(Duration::from_millis(300));
        let pid = stubborn.pid().expect("pid");
        assert!(wait_ready("log line", Duration::from_secs(5), &mut [&mut stubborn], async || tail(&log, 1).contains("up").then_some(()))
            .await
            .is_ok());
        let started = Instant::now();
        drop(stubborn);
        assert!(started.elapsed() >= Duration::from_millis(300), "SIGTERM was not given its grace");
        // SAFETY: signal 0 only checks whether the pid exists.
        assert_ne!(unsafe { libc::kill(pid as i32, 0) }, 0, "the child survived the drop");
    }
}
