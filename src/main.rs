//! Thin: the library's [`ctrld_sync::main`] parses the command line, runs it and maps the outcome
//! to an exit code.

fn main() -> std::process::ExitCode {
    ctrld_sync::main()
}
