//! The `qingshan` command: argument parsing, progress and exit codes only;
//! every computation lives in the `qingshan` library.

mod cli;
mod commands;
mod progress;

fn main() -> std::process::ExitCode {
    commands::run(cli::parse())
}
