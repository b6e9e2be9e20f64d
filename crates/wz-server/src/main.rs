//! The `wenzheng` binary: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    wz_server::cli::main()
}
