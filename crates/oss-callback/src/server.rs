//! Server-side helpers behind the `server` feature: a hyper-based [`KeyFetcher`] and a
//! `tower` layer that verifies callback requests before they reach your handler.
//!
//! [`KeyFetcher`]: crate::KeyFetcher

mod fetcher;
mod layer;

pub use fetcher::HyperKeyFetcher;
pub use layer::{CallbackVerifyLayer, CallbackVerifyService};
