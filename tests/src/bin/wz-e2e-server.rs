//! The real server, built inside the test package so tests can spawn and kill it.

fn main() -> std::process::ExitCode {
    wz_server::cli::main()
}
