//! What every upload says besides its bytes: the key, object options, the callback and its
//! variables. Each builder hands one `UploadSpec` down instead of five loose arguments, and the
//! rules about the pair callback + vars are checked here once.

use http::HeaderMap;
use oss_callback::{Callback, CallbackVars};
use oss_transport::CallbackCarrier;

use crate::options::ObjectOptions;
use crate::Error;

/// The shared part of an upload request, borrowed from its builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadSpec<'a> {
    pub(crate) key: &'a str,
    pub(crate) options: &'a ObjectOptions,
    pub(crate) callback: Option<&'a Callback>,
    pub(crate) vars: Option<&'a CallbackVars>,
}

impl<'a> UploadSpec<'a> {
    pub(crate) fn new(
        key: &'a str,
        options: &'a ObjectOptions,
        callback: Option<&'a Callback>,
        vars: Option<&'a CallbackVars>,
    ) -> Self {
        Self {
            key,
            options,
            callback,
            vars,
        }
    }

    /// Refuses callback variables without a callback: OSS would ignore them, and a caller who
    /// set them expects them to reach a callback server.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match (self.callback, self.vars) {
            (None, Some(_)) => Err(Error::CallbackVarsWithoutCallback {
                key: self.key.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Sets `x-oss-callback` / `x-oss-callback-var` (before signing); returns the intent to
    /// declare on the request.
    pub(crate) fn apply_callback(
        &self,
        headers: &mut HeaderMap,
    ) -> Result<Option<CallbackCarrier>, Error> {
        self.check()?;
        match self.callback {
            Some(cb) => {
                oss_callback::encode_headers(cb, self.vars, headers)?;
                Ok(Some(CallbackCarrier::Header))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_without_a_callback_are_refused() {
        let options = ObjectOptions::new();
        let vars = CallbackVars::default();
        let spec = UploadSpec::new("k", &options, None, Some(&vars));
        assert!(matches!(
            spec.check(),
            Err(Error::CallbackVarsWithoutCallback { key }) if key == "k"
        ));
        assert!(UploadSpec::new("k", &options, None, None).check().is_ok());
    }
}
