//! The `qingshan` command: argument parsing, progress and exit codes only;
//! every computation lives in the `qingshan` library.

fn main() -> std::process::ExitCode {
    qingshan_cli::commands::run(qingshan_cli::cli::parse())
}
