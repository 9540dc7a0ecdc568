//! What every upload says besides its bytes: the key, object options, the callback and its
//! variables, progress. Every builder holds one `UploadSpec` (and gets its setters from
//! `spec_setters!`), hands a borrowed `SpecRef` down instead of loose arguments, and the rules
//! about the pair callback + vars are checked here once.

use http::HeaderMap;
use oss_callback::{Callback, CallbackVars};
use oss_transport::CallbackCarrier;

use crate::options::ObjectOptions;
use crate::progress::Progress;
use crate::Error;

/// The shared part of every upload builder.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadSpec {
    pub(crate) key: String,
    pub(crate) options: ObjectOptions,
    pub(crate) callback: Option<Callback>,
    pub(crate) vars: Option<CallbackVars>,
    pub(crate) progress: Option<Progress>,
}

impl UploadSpec {
    pub(crate) fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            ..Self::default()
        }
    }

    /// The borrowed view the lower layers take.
    pub(crate) fn view(&self) -> SpecRef<'_> {
        SpecRef::new(
            &self.key,
            &self.options,
            self.callback.as_ref(),
            self.vars.as_ref(),
        )
    }
}

/// The setters every upload builder shares, on its `spec` field; `progress` adds
/// `with_progress`.
macro_rules! spec_setters {
    () => {
        /// Object options (metadata, ACL, Content-Type, ...). Default: none.
        pub fn with_options(mut self, options: $crate::ObjectOptions) -> Self {
            self.spec.options = options;
            self
        }

        /// The upload callback OSS calls after storing the object. Default: none.
        pub fn with_callback(mut self, callback: oss_callback::Callback) -> Self {
            self.spec.callback = Some(callback);
            self
        }

        /// Custom callback variables (`x:` keys). Without a callback the upload fails with
        /// [`Error::CallbackVarsWithoutCallback`](crate::Error::CallbackVarsWithoutCallback).
        /// Default: none.
        pub fn with_callback_vars(mut self, vars: oss_callback::CallbackVars) -> Self {
            self.spec.vars = Some(vars);
            self
        }
    };
    (progress) => {
        $crate::spec::spec_setters!();

        /// Progress events. Default: none.
        pub fn with_progress(mut self, progress: $crate::Progress) -> Self {
            self.spec.progress = Some(progress);
            self
        }
    };
}
pub(crate) use spec_setters;

/// The shared part of an upload request, borrowed from its builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpecRef<'a> {
    pub(crate) key: &'a str,
    pub(crate) options: &'a ObjectOptions,
    pub(crate) callback: Option<&'a Callback>,
    pub(crate) vars: Option<&'a CallbackVars>,
}

impl<'a> SpecRef<'a> {
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
        let spec = SpecRef::new("k", &options, None, Some(&vars));
        assert!(matches!(
            spec.check(),
            Err(Error::CallbackVarsWithoutCallback { key }) if key == "k"
        ));
        assert!(SpecRef::new("k", &options, None, None).check().is_ok());
    }
}
