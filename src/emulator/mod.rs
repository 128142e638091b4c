//! A local, stateful imitation of the Segment Public API's access-management surface.
//! (Placeholder with the agreed interface; the real emulator lands from its own branch.)

use std::net::SocketAddr;

pub const DEFAULT_OWNER_TOKEN: &str = "emulator-owner-token";
pub const DEFAULT_MEMBER_TOKEN: &str = "emulator-member-token";

#[derive(Debug, thiserror::Error)]
#[error("emulator: {0}")]
pub struct EmulatorError(String);

#[derive(Default)]
pub struct EmulatorConfig {}

pub struct RunningEmulator {
    addr: SocketAddr,
}

impl RunningEmulator {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub async fn shutdown(self) {}
}

pub async fn start(
    _config: EmulatorConfig,
    addr: SocketAddr,
) -> Result<RunningEmulator, EmulatorError> {
    Ok(RunningEmulator { addr })
}
