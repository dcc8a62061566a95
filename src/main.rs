use std::process::ExitCode;

mod cli;
mod commands;

use clap::Parser;
use cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging(&cli.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return commands::report(anyhow::anyhow!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => code,
        Err(e) => commands::report(e),
    }
}
