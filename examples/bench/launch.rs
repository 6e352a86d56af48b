//! Measures one run of a command from a process of its own: `bench --launch-measured FILE -- CMD
//! ARGS...` runs CMD with this process's standard streams, reaps it with `wait4` and writes "WALL_NS
//! MAX_RSS_KIB" to FILE, then exits with CMD's exit code.
//!
//! Why a process of its own: Linux keeps the memory high-water mark of the address space a process
//! had before `exec` in its `ru_maxrss`, and a spawned child starts from its parent's. Spawned
//! straight from the bench, which holds the emulator's data, a 17 MB run of ctrld-sync reported the
//! bench's own 80 MB. This launcher is small when it spawns, so the figure is the child's own.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The flag that makes the bench binary a launcher (it is not one of the bench's options).
pub const FLAG: &str = "--launch-measured";

/// The launcher binary, once the bench binary has said it is one ([`use_this_binary`]); the
/// quick-mode test, built into a test binary, has none and spawns directly.
static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();

/// Makes every later measured run go through this binary's launcher mode.
pub fn use_this_binary() {
    if let Ok(exe) = std::env::current_exe() {
        let _ = LAUNCHER.set(exe);
    }
}

/// Runs `program` with `args` (and `configure`'s environment and streams) and measures it: exit
/// code (-1 when killed by a signal), wall time and peak RSS in KiB.
pub fn run(
    program: &Path,
    args: &[std::ffi::OsString],
    scratch: &Path,
    configure: impl FnOnce(&mut Command),
) -> std::io::Result<(i32, Duration, u64)> {
    let Some(launcher) = LAUNCHER.get() else {
        let mut command = Command::new(program);
        command.args(args);
        configure(&mut command);
        return spawn_measured(&mut command);
    };
    let file = scratch.join("measurement.txt");
    let _ = std::fs::remove_file(&file);
    let mut command = Command::new(launcher);
    command
        .arg(FLAG)
        .arg(&file)
        .arg("--")
        .arg(program)
        .args(args);
    configure(&mut command);
    let status = command.status()?;
    let (wall, max_rss_kib) = read_measurement(&file).ok_or_else(|| {
        std::io::Error::other(format!("the launcher measured nothing ({status})"))
    })?;
    Ok((status.code().unwrap_or(-1), wall, max_rss_kib))
}

/// The launcher's `main`, when the arguments start with [`FLAG`]: `FLAG FILE -- CMD ARGS...`.
pub fn main_if_launcher() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(FLAG) {
        return None;
    }
    let (Some(file), Some("--"), Some(program)) =
        (args.get(1), args.get(2).map(String::as_str), args.get(3))
    else {
        eprintln!("bench: usage: {FLAG} FILE -- CMD [ARGS...]");
        return Some(ExitCode::FAILURE);
    };
    Some(match launch(Path::new(file), program, &args[4..]) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("bench: {program}: {error}");
            ExitCode::FAILURE
        }
    })
}

fn launch(file: &Path, program: &str, args: &[String]) -> std::io::Result<i32> {
    let (exit_code, wall, max_rss_kib) = spawn_measured(Command::new(program).args(args))?;
    std::fs::write(file, format!("{} {max_rss_kib}\n", wall.as_nanos()))?;
    Ok(exit_code)
}

fn spawn_measured(command: &mut Command) -> std::io::Result<(i32, Duration, u64)> {
    let started = Instant::now();
    let child = command.spawn()?;
    let (exit_code, max_rss_kib) = wait_with_rusage(child.id())?;
    Ok((exit_code, started.elapsed(), max_rss_kib))
}

/// What the launcher wrote: the run's wall time and peak RSS (KiB).
fn read_measurement(file: &Path) -> Option<(Duration, u64)> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut numbers = text.split_whitespace().map(str::parse::<u64>);
    let wall = Duration::from_nanos(numbers.next()?.ok()?);
    Some((wall, numbers.next()?.ok()?))
}

/// Reaps the child with `wait4`, which hands back that one process's rusage (`ru_maxrss`, KiB on
/// Linux). Returns the exit code (-1 when killed by a signal) and the peak RSS.
fn wait_with_rusage(pid: u32) -> std::io::Result<(i32, u64)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero bytes are a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both pointers are to live, writable locals.
        let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if reaped != -1 {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((exit_code, usage.ru_maxrss.max(0) as u64))
}
