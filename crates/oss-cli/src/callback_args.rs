//! The callback flags shared by `cp`, `presign put` and `form`.

use clap::{Args, ValueEnum};
use oss_callback::{Callback, CallbackBodyType, CallbackVars};

use crate::Error;

/// `--callback-body-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CallbackBodyTypeArg {
    /// `application/json`: placeholders become JSON strings, write them unquoted
    Json,
    /// `application/x-www-form-urlencoded`: placeholders are percent-encoded
    Form,
}

/// The upload-callback flags.
///
/// ```
/// use clap::Parser;
/// use oss_cli::CallbackArgs;
///
/// #[derive(Parser)]
/// struct T {
///     #[command(flatten)]
///     cb: CallbackArgs,
/// }
/// let t = T::try_parse_from([
///     "t", "--callback-url", "https://app.example.com/cb", "--callback-var", "x:user=alice",
/// ])?;
/// let (callback, vars) = t.cb.to_callback()?.expect("a callback");
/// assert_eq!(callback.urls(), ["https://app.example.com/cb"]);
/// assert_eq!(
///     callback.body(),
///     r#"{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"x:user":${x:user}}"#
/// );
/// assert_eq!(vars.get("x:user"), Some("alice"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct CallbackArgs {
    /// Callback URL OSS POSTs to after storing the object (repeatable, at most 5)
    #[arg(long = "callback-url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Host header of the callback request [default: the URL's host]
    #[arg(long, value_name = "HOST")]
    pub callback_host: Option<String>,
    /// Callback body template, e.g. '{"object":${object},"user":${x:user}}'
    /// [default: bucket, object, etag, size, mimeType and every --callback-var]
    #[arg(long, value_name = "TEMPLATE")]
    pub callback_body: Option<String>,
    /// Callback body encoding [default: json, or form for a --callback-body not starting with '{']
    #[arg(long, value_enum, value_name = "TYPE")]
    pub callback_body_type: Option<CallbackBodyTypeArg>,
    /// Custom callback variable x:name=value (repeatable; name in lower case)
    #[arg(long = "callback-var", value_name = "x:name=value")]
    pub vars: Vec<String>,
    /// Send SNI when OSS calls an https callback URL
    #[arg(long)]
    pub callback_sni: bool,
}

impl CallbackArgs {
    /// Whether any callback flag was given.
    pub fn is_given(&self) -> bool {
        !self.urls.is_empty()
            || self.callback_host.is_some()
            || self.callback_body.is_some()
            || self.callback_body_type.is_some()
            || !self.vars.is_empty()
            || self.callback_sni
    }

    /// The callback and its variables; `None` when no callback flag was given. A `${x:…}` in
    /// the body that no `--callback-var` sets gets a warning on stderr (OSS sends it empty).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when callback flags are given without `--callback-url`, a
    /// variable is not `x:name=value`, or a JSON body quotes a placeholder (`"${object}"`: OSS
    /// inserts a JSON string, quotes included); [`Error::Callback`] when OSS would refuse the callback
    /// (more than 5 URLs, bad template, too long, bad variable name).
    pub fn to_callback(&self) -> Result<Option<(Callback, CallbackVars)>, Error> {
        if !self.is_given() {
            return Ok(None);
        }
        if self.urls.is_empty() {
            return Err(Error::InvalidArgument {
                name: "callback",
                message: "callback options need at least one --callback-url".into(),
            });
        }
        let mut vars = CallbackVars::new();
        let mut names = Vec::new();
        for var in &self.vars {
            let (name, value) = var.split_once('=').ok_or_else(|| Error::InvalidArgument {
                name: "--callback-var",
                message: format!("{var:?}: expected x:name=value"),
            })?;
            vars = vars.with(name, value)?;
            names.push(name.to_owned());
        }
        let body_type = match (self.callback_body_type, &self.callback_body) {
            (Some(CallbackBodyTypeArg::Form), _) => CallbackBodyType::FormUrlEncoded,
            (Some(CallbackBodyTypeArg::Json), _) | (None, None) => CallbackBodyType::Json,
            // A template that is not a JSON object is a form body.
            (None, Some(body)) if body.trim_start().starts_with('{') => CallbackBodyType::Json,
            (None, Some(_)) => CallbackBodyType::FormUrlEncoded,
        };
        let body = match &self.callback_body {
            Some(body) => body.clone(),
            None => default_body(body_type, &names),
        };
        if body_type == CallbackBodyType::Json {
            crate::validate::check_json_template(&body)?;
        }
        for name in crate::validate::unset_vars(&body, &names) {
            crate::output::warn(&format!(
                "the callback body uses ${{{name}}} but no --callback-var {name}=… sets it; \
                 OSS sends it empty"
            ));
        }
        let mut builder = Callback::builder()
            .with_body(body)
            .with_body_type(body_type)
            .with_sni(self.callback_sni);
        for url in &self.urls {
            builder = builder.with_url(url.clone());
        }
        if let Some(host) = &self.callback_host {
            builder = builder.with_host(host.clone());
        }
        Ok(Some((builder.build()?, vars)))
    }
}

/// The default template: the object's identity plus every custom variable.
fn default_body(body_type: CallbackBodyType, vars: &[String]) -> String {
    const SYSTEM: [&str; 5] = ["bucket", "object", "etag", "size", "mimeType"];
    let names = SYSTEM
        .iter()
        .map(|n| (*n).to_owned())
        .chain(vars.iter().cloned());
    match body_type {
        CallbackBodyType::Json => {
            let fields: Vec<String> = names.map(|n| format!("\"{n}\":${{{n}}}")).collect();
            format!("{{{}}}", fields.join(","))
        }
        _ => {
            let fields: Vec<String> = names.map(|n| format!("{n}=${{{n}}}")).collect();
            fields.join("&")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(urls: &[&str]) -> CallbackArgs {
        CallbackArgs {
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            ..CallbackArgs::default()
        }
    }

    #[test]
    fn none_without_flags() {
        assert!(CallbackArgs::default().to_callback().unwrap().is_none());
    }

    #[test]
    fn flags_without_url_are_refused() {
        let a = CallbackArgs {
            callback_sni: true,
            ..CallbackArgs::default()
        };
        assert!(matches!(
            a.to_callback(),
            Err(Error::InvalidArgument { .. })
        ));
    }

    #[test]
    fn form_default_body() {
        let mut a = args(&["http://h/cb"]);
        a.callback_body_type = Some(CallbackBodyTypeArg::Form);
        a.vars = vec!["x:a=1".into()];
        let (cb, vars) = a.to_callback().unwrap().unwrap();
        assert_eq!(
            cb.body(),
            "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&x:a=${x:a}"
        );
        assert_eq!(cb.body_type(), CallbackBodyType::FormUrlEncoded);
        assert_eq!(vars.get("x:a"), Some("1"));
    }

    #[test]
    fn six_urls_are_refused_by_oss_rules() {
        let a = args(&[
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://a/4",
            "http://a/5",
            "http://a/6",
        ]);
        assert!(matches!(a.to_callback(), Err(Error::Callback(_))));
        let a = args(&[
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://a/4",
            "http://a/5",
        ]);
        assert_eq!(a.to_callback().unwrap().unwrap().0.urls().len(), 5);
    }

    #[test]
    fn bad_vars_are_refused() {
        let mut a = args(&["http://h/cb"]);
        a.vars = vec!["novalue".into()];
        assert!(matches!(
            a.to_callback(),
            Err(Error::InvalidArgument { .. })
        ));
        a.vars = vec!["user=alice".into()];
        assert!(matches!(a.to_callback(), Err(Error::Callback(_))));
    }

    #[test]
    fn explicit_body_and_host() {
        let mut a = args(&["http://h/cb"]);
        a.callback_body = Some("o=${object}".into());
        a.callback_host = Some("app.example.com".into());
        a.callback_sni = true;
        let (cb, _) = a.to_callback().unwrap().unwrap();
        assert_eq!(cb.body(), "o=${object}");
        assert_eq!(cb.body_type(), CallbackBodyType::FormUrlEncoded);
        assert_eq!(cb.host(), Some("app.example.com"));
        assert!(cb.sni());
    }
}
