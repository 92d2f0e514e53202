#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
pub mod moto;
