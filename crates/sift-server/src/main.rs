fn main() -> std::process::ExitCode {
    sift_server::cli::main()
}
