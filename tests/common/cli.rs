//! Running the built `slimlm` binary from tests. Under qemu (no binfmt on the build
//! machine) the binary is started through the runner named by `SLIMLM_TEST_RUNNER`, which
//! scripts/test-aarch64.sh sets. Include with `#[path = "common/cli.rs"] mod cli;`.

use std::process::Command;

/// A command that runs the `slimlm` binary built for this test run.
pub fn slimlm() -> Command {
    let bin = env!("CARGO_BIN_EXE_slimlm");
    match std::env::var_os("SLIMLM_TEST_RUNNER") {
        Some(runner) => {
            let mut c = Command::new(runner);
            c.arg(bin);
            c
        }
        None => Command::new(bin),
    }
}
