//! `oss-rs presign put|get oss://bucket/key`.

use std::io::Write as _;
use std::time::Duration;

use oss_presign::{CallbackCarrier, PresignRequest, PresignedRequest};

use crate::args::{CarrierArg, GlobalArgs, PresignOperation};
use crate::Error;

/// Presigns and prints: the URL on the first line, then the headers and a curl command.
pub(crate) async fn run(global: &GlobalArgs, operation: PresignOperation) -> Result<(), Error> {
    let presigner = global.presigner().await?;
    let (request, upload) = match operation {
        PresignOperation::Put(args) => {
            let mut request = PresignRequest::put_object(args.object.bucket(), args.object.key())
                .with_expires(Duration::from_secs(args.expires));
            for (name, value) in args.object_options.headers() {
                request = request.with_header(name, value);
            }
            if let Some((cb, vars)) = args.callback.to_callback()? {
                let carrier = match args.callback_carrier {
                    CarrierArg::Header => CallbackCarrier::Header,
                    CarrierArg::Query => CallbackCarrier::Query,
                };
                request = request.with_callback(cb, Some(vars).filter(|v| !v.is_empty()), carrier);
            }
            (request, true)
        }
        PresignOperation::Get(args) => (
            PresignRequest::get_object(args.object.bucket(), args.object.key())
                .with_expires(Duration::from_secs(args.expires)),
            false,
        ),
    };
    let presigned = presigner.presign(&request).await?;
    let text = render(&presigned, upload);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write the presigned URL", e))
}

/// The URL alone on the first line (for `| head -1`), then commented details.
fn render(presigned: &PresignedRequest, upload: bool) -> String {
    let mut out = format!("{}\n", presigned.uri);
    let expires = oss_sign::format_datetime(presigned.expires_at);
    out.push_str(&format!("# {} until {expires} (UTC)\n", presigned.method));
    if !presigned.signed_headers.is_empty() {
        out.push_str("# send these headers exactly as shown (they are signed):\n");
        for (name, value) in &presigned.signed_headers {
            out.push_str(&format!(
                "{}: {}\n",
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
    }
    out.push_str("# ready-made curl command:\n");
    out.push_str(&presigned.curl_command(upload.then_some("FILE")));
    out.push('\n');
    out
}
