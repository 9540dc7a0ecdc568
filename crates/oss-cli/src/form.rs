//! `oss-rs form oss://bucket/prefix`: the fields of a signed browser upload form.

use std::io::Write as _;
use std::time::SystemTime;

use oss_upload::{BrowserForm, PostPolicy};

use crate::args::{FormArgs, GlobalArgs};
use crate::Error;

/// Signs the form, prints it as JSON and optionally writes an HTML page.
pub(crate) async fn run(global: &GlobalArgs, args: FormArgs) -> Result<(), Error> {
    let client = global.upload_client(args.prefix.bucket()).await?;
    let prefix = args.prefix.key().to_owned();
    let lifetime = crate::validate::form_expiry(args.expires, args.allow_long_expiry)?;
    let expires_at = SystemTime::now() + lifetime;
    let mut policy = PostPolicy::new(expires_at).with_starts_with("key", prefix.clone());
    if let Some(max) = args.max_size {
        policy = policy.with_content_length_range(0, max);
    }
    let mut request = client.browser_form(format!("{prefix}${{filename}}"), policy);
    if let Some((cb, vars)) = args.callback.to_callback()? {
        request = request.with_callback(cb);
        if !vars.is_empty() {
            request = request.with_callback_vars(vars);
        }
    }
    let form = request.sign().await?;
    let json = to_json(&form, expires_at);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{json}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write the form", e))?;
    if let Some(path) = &args.html {
        std::fs::write(path, html_page(&form)).map_err(|e| Error::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let _ = writeln!(std::io::stderr(), "wrote {}", path.display());
    }
    Ok(())
}

fn to_json(form: &BrowserForm, expires_at: SystemTime) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = form
        .fields
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let value = serde_json::json!({
        "url": form.url,
        "method": "POST",
        "enctype": "multipart/form-data",
        "expires": oss_sign::format_datetime(expires_at),
        "fields": fields,
        "file_field": "file",
    });
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

/// A page with the fields as hidden inputs and the file input last, as OSS requires.
fn html_page(form: &BrowserForm) -> String {
    let mut inputs = String::new();
    for (name, value) in &form.fields {
        inputs.push_str(&format!(
            "    <input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    format!(
        "<!doctype html>\n<html>\n<head><meta charset=\"utf-8\"><title>Upload to OSS</title></head>\n<body>\n  <form action=\"{}\" method=\"post\" enctype=\"multipart/form-data\">\n{inputs}    <input type=\"file\" name=\"file\">\n    <button type=\"submit\">Upload</button>\n  </form>\n</body>\n</html>\n",
        escape(&form.url)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_puts_file_last() {
        assert_eq!(escape(r#"a"<&>"#), "a&quot;&lt;&amp;&gt;");
    }
}
