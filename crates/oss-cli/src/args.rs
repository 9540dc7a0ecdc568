//! The command line: global options and one struct per subcommand (clap derive).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::callback_args::CallbackArgs;
use crate::location::{object_url_arg, ObjectUrl};
use crate::size::size_arg;

const MAIN_EXAMPLES: &str = "\
Examples:
  # Try everything locally: an emulator, a callback server, an upload with a callback.
  oss-rs emulator --listen 127.0.0.1:9000 --create-bucket examplebucket &
  oss-rs callback-server --listen 127.0.0.1:8080 --trust-key-url-prefix http://127.0.0.1:9000/ &
  export OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk
  oss-rs --endpoint http://127.0.0.1:9000 --region cn-hangzhou --path-style \\
      cp ./video.mp4 oss://examplebucket/videos/video.mp4 --callback-url http://127.0.0.1:8080/cb

  # Real OSS (credentials from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET / OSS_SESSION_TOKEN,
  # or a profile of ~/.alibabacloud/credentials or ~/.aliyun/config.json):
  oss-rs --region cn-hangzhou cp ./photo.jpg oss://examplebucket/photos/photo.jpg
  oss-rs --profile uploader --region cn-hangzhou cp ./photo.jpg oss://examplebucket/photo.jpg
  oss-rs --region cn-hangzhou presign get oss://examplebucket/photos/photo.jpg --expires 600

Exit codes:
  0    success
  1    failure (OSS error, network, bad input)
  2    invalid command line
  3    the upload callback failed; the object IS stored
  4    the callback's outcome is unknown; the object is stored (or may be)
  130  stopped by Ctrl-C or SIGTERM";

const CP_EXAMPLES: &str = "\
Examples:
  # Upload; the key defaults to the file name when the destination ends in '/'.
  oss-rs --region cn-hangzhou cp ./report.pdf oss://examplebucket/docs/

  # Upload with a JSON callback carrying a custom variable; prints the callback's answer.
  oss-rs --region cn-hangzhou cp ./photo.jpg oss://examplebucket/photos/photo.jpg \\
      --callback-url https://app.example.com/oss-callback \\
      --callback-body '{\"object\":${object},\"size\":${size},\"user\":${x:user}}' \\
      --callback-var x:user=alice

  # Big file: 16 MiB parts, 4 in flight, resumable after an interruption.
  oss-rs --region cn-hangzhou cp ./backup.tar oss://examplebucket/backup.tar \\
      --part-size 16MiB --parallel 4 --checkpoint-dir ~/.cache/oss-rs

  # Download (parallel ranged GETs, CRC-64 checked, into ./backup.tar.temp then renamed);
  # to stdout with '-'.
  oss-rs --region cn-hangzhou cp oss://examplebucket/backup.tar ./backup.tar
  oss-rs --region cn-hangzhou cp oss://examplebucket/notes.txt - | less

  # Upload stdin (multipart when longer than one part).
  tar c ./site | oss-rs --region cn-hangzhou cp - oss://examplebucket/site.tar

  # A directory tree both ways, 4 files at once, a callback per file naming its path.
  oss-rs --region cn-hangzhou cp -r ./photos/ oss://examplebucket/photos/ --jobs 4 \\
      --callback-url https://app.example.com/cb --callback-var 'x:path={relpath}'
  oss-rs --region cn-hangzhou cp -r oss://examplebucket/photos/ ./photos-copy/

  # Against the local emulator (see `oss-rs emulator --help`):
  OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk oss-rs --endpoint http://127.0.0.1:9000 \\
      --region cn-hangzhou --path-style cp ./a.bin oss://examplebucket/a.bin";

const PRESIGN_EXAMPLES: &str = "\
Examples:
  # A download link valid for 10 minutes.
  oss-rs --region cn-hangzhou presign get oss://examplebucket/photos/photo.jpg --expires 600

  # An upload URL whose callback rides in the (signed) query: the uploader sends only the body.
  oss-rs --region cn-hangzhou presign put oss://examplebucket/uploads/photo.jpg \\
      --callback-url https://app.example.com/oss-callback --callback-carrier query

  # The same with the callback in signed headers: prints the headers and a curl command.
  oss-rs --region cn-hangzhou presign put oss://examplebucket/uploads/photo.jpg \\
      --callback-url https://app.example.com/oss-callback --callback-var x:user=alice";

const PRESIGN_PUT_EXAMPLES: &str = "\
Examples:
  oss-rs --region cn-hangzhou presign put oss://examplebucket/a.txt --expires 3600
  oss-rs --region cn-hangzhou presign put oss://examplebucket/a.txt \\
      --callback-url https://app.example.com/cb --callback-carrier header
  # Signed Content-Type and metadata: the upload must send both (see the curl command).
  oss-rs --region cn-hangzhou presign put oss://examplebucket/a.txt \\
      --content-type text/plain --meta owner:alice";

const PRESIGN_GET_EXAMPLES: &str = "\
Examples:
  oss-rs --region cn-hangzhou presign get oss://examplebucket/a.txt --expires 3600
  curl -o a.txt \"$(oss-rs --region cn-hangzhou presign get oss://examplebucket/a.txt | head -1)\"";

const FORM_EXAMPLES: &str = "\
Examples:
  # Fields for a browser upload under user/alice/, at most 10 MiB, valid 1 hour.
  oss-rs --region cn-hangzhou form oss://examplebucket/user/alice/ --max-size 10MiB

  # Also write a ready HTML upload page with a callback.
  oss-rs --region cn-hangzhou form oss://examplebucket/uploads/ --html upload.html \\
      --callback-url https://app.example.com/oss-callback --callback-body-type form";

const CREDENTIALS_EXAMPLES: &str = "\
Without --access-key-id/--access-key-secret, credentials come from the default chain of the
Alibaba Cloud SDKs: OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET/OSS_SESSION_TOKEN, then
ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET/ALIBABA_CLOUD_SECURITY_TOKEN, then
the aliyun CLI profile (~/.aliyun/config.json), then the INI file ~/.alibabacloud/credentials.

Examples:
  oss-rs credentials
  oss-rs --profile uploader credentials
  oss-rs --credentials-file ./creds.ini --profile ci credentials";

const EMULATOR_EXAMPLES: &str = "\
Examples:
  # In memory on port 9000, accepting access key ak / secret sk, region cn-hangzhou, with one
  # bucket (buckets exist only once created: --create-bucket, `oss-rs mb`, or
  # --auto-create-buckets to make them on first use).
  oss-rs emulator --create-bucket examplebucket

  # A free port, objects kept on disk, other credentials and region.
  oss-rs --region eu-central-1 --access-key-id test --access-key-secret testsecret \\
      emulator --listen 127.0.0.1:0 --data-dir /tmp/oss-data

It prints `oss-emulator listening on http://127.0.0.1:PORT`; its callback public key is served at
http://127.0.0.1:PORT/__emulator/pubkey.pem. Stop it with Ctrl-C or SIGTERM.";

const CALLBACK_SERVER_EXAMPLES: &str = "\
Examples:
  # Verify callbacks from real OSS (keys under gosspublic.alicdn.com are trusted by default).
  oss-rs callback-server --listen 0.0.0.0:8080

  # Verify callbacks from the local emulator on port 9000.
  oss-rs callback-server --listen 127.0.0.1:8080 --trust-key-url-prefix http://127.0.0.1:9000/

It prints `oss-rs callback-server listening on http://ADDR`, then every callback it receives,
whether its signature verified, and the JSON it answered. Stop it with Ctrl-C or SIGTERM.";

/// Upload files to Alibaba Cloud OSS with upload callbacks, presign URLs, sign browser forms,
/// and run a local emulator and callback server to try it all.
#[derive(Debug, Parser)]
#[command(name = "oss-rs", version, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `--endpoint` and `--path-style` before the command (they apply to client commands only).
    #[command(flatten)]
    pub client: TopClientArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The endpoint: `--endpoint` of the client command (or before it), else `OSS_ENDPOINT`.
    #[arg(skip)]
    pub endpoint: Option<String>,
    /// Path style: `--path-style` of the client command (or before it).
    #[arg(skip)]
    pub path_style: bool,
    /// Region: `--region` of the command (or before it), else `OSS_REGION`.
    #[arg(skip)]
    pub region: Option<String>,
    /// Access key id: `--access-key-id` of the command (or before it), else the environment.
    #[arg(skip)]
    pub access_key_id: Option<String>,
    /// Access key secret, found like the id.
    #[arg(skip)]
    pub access_key_secret: Option<String>,
    /// STS security token, found like the id.
    #[arg(skip)]
    pub session_token: Option<String>,
    /// Credentials profile: `--profile` of a client command (or before it).
    #[arg(skip)]
    pub profile: Option<String>,
    /// INI credentials file: `--credentials-file` of a client command (or before it).
    #[arg(skip)]
    pub credentials_file: Option<PathBuf>,
    /// Log to stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing but errors: no progress, summary or warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print each result as one JSON document on stdout (cp: bucket, key, size, etag, crc64,
    /// request_id, version_id, the callback's answer or failure, upload_id)
    #[arg(long, global = true)]
    pub json: bool,
}

impl Command {
    /// The connection options of a client command; `None` for `emulator` and
    /// `callback-server`.
    pub(crate) fn client_args(&self) -> Option<&ClientArgs> {
        match self {
            Command::Cp(a) => Some(&a.client),
            Command::Presign(a) => Some(&a.client),
            Command::Form(a) => Some(&a.client),
            Command::Credentials(a) => Some(&a.client),
            Command::Ls(a) => Some(&a.client),
            Command::Stat(a) => Some(&a.client),
            Command::Rm(a) => Some(&a.client),
            Command::Uploads(a) => Some(&a.client),
            Command::Mb(a) | Command::Rb(a) => Some(&a.client),
            Command::Emulator(_) | Command::CallbackServer(_) => None,
        }
    }

    /// Region and access key of a command that uses them (client commands, `emulator`).
    pub(crate) fn key_args(&self) -> Option<&KeyArgs> {
        match self {
            Command::Emulator(a) => Some(&a.keys),
            _ => self.client_args().map(|c| &c.keys),
        }
    }

    /// The command's name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Cp(_) => "cp",
            Command::Presign(_) => "presign",
            Command::Form(_) => "form",
            Command::Credentials(_) => "credentials",
            Command::Emulator(_) => "emulator",
            Command::CallbackServer(_) => "callback-server",
            Command::Ls(_) => "ls",
            Command::Stat(_) => "stat",
            Command::Rm(_) => "rm",
            Command::Uploads(_) => "uploads",
            Command::Mb(_) => "mb",
            Command::Rb(_) => "rb",
        }
    }
}

impl fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("GlobalArgs")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &masked(&self.access_key_secret))
            .field("session_token", &masked(&self.session_token))
            .field("profile", &self.profile)
            .field("credentials_file", &self.credentials_file)
            .field("verbose", &self.verbose)
            .field("quiet", &self.quiet)
            .field("json", &self.json)
            .finish()
    }
}

/// The options of the commands that talk to OSS (not `emulator` or `callback-server`),
/// given after the command; they also apply to its subcommands.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection options")]
pub struct ClientArgs {
    /// OSS endpoint, `https://host[:port]` or `http://…` [default: the region's public endpoint]
    #[arg(
        long,
        global = true,
        env = "OSS_ENDPOINT",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub endpoint: Option<String>,
    /// Path-style addressing (endpoint/bucket/key), for emulators and some proxies [default:
    /// on for an IP or localhost endpoint]
    #[arg(long, global = true)]
    pub path_style: bool,
    /// Region and access key.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Where the default credential chain looks.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// Region and access key of a command that signs (client commands) or checks signatures (the
/// emulator); they also apply to its subcommands. `callback-server` has none of them.
#[derive(Clone, Default, Args)]
#[command(next_help_heading = "Region and credentials")]
pub struct KeyArgs {
    /// Region id, e.g. cn-hangzhou [default: taken from an oss-<region>.aliyuncs.com endpoint]
    #[arg(long, global = true, env = "OSS_REGION", hide_env_values = true)]
    pub region: Option<String>,
    /// Access key id
    #[arg(long, global = true, env = "OSS_ACCESS_KEY_ID", hide_env_values = true)]
    pub access_key_id: Option<String>,
    /// Access key secret (prefer the environment: flags show in the process list)
    #[arg(
        long,
        global = true,
        env = "OSS_ACCESS_KEY_SECRET",
        hide_env_values = true
    )]
    pub access_key_secret: Option<String>,
    /// STS security token
    #[arg(long, global = true, env = "OSS_SESSION_TOKEN", hide_env_values = true)]
    pub session_token: Option<String>,
}

impl fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyArgs")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "***"),
            )
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Where a client command's default credential chain looks (not used by `emulator` or
/// `callback-server`).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Region and credentials")]
pub struct ProfileArgs {
    /// Profile of the aliyun CLI config and the INI credentials file, used when no access key
    /// is given [default: ALIBABA_CLOUD_PROFILE, else the CLI's current profile / `default`]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// INI credentials file [default: ALIBABA_CLOUD_CREDENTIALS_FILE, else
    /// ~/.alibabacloud/credentials, then ~/.alibabacloud/credentials.ini]
    #[arg(long, global = true, value_name = "PATH")]
    pub credentials_file: Option<PathBuf>,
}

/// Options given before the command, as in `oss-rs --endpoint URL --region R cp …`: each is
/// accepted where the same option after the command is (the client commands; region and keys
/// also for `emulator`) and refused (exit 2) elsewhere. They carry no environment fallback: the
/// command's own copy of the option reads the environment.
#[derive(Clone, Default, Args)]
#[command(next_help_heading = "Options for the command (also accepted after it)")]
pub struct TopClientArgs {
    /// OSS endpoint for a client command (also `OSS_ENDPOINT`, or `--endpoint` after the
    /// command)
    #[arg(long = "endpoint", id = "top_endpoint", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Path-style addressing for a client command
    #[arg(long = "path-style", id = "top_path_style")]
    pub path_style: bool,
    /// Region id (also `OSS_REGION`): client commands and `emulator`
    #[arg(long = "region", id = "top_region", value_name = "REGION")]
    pub region: Option<String>,
    /// Access key id (also `OSS_ACCESS_KEY_ID`): client commands and `emulator`
    #[arg(long = "access-key-id", id = "top_access_key_id", value_name = "ID")]
    pub access_key_id: Option<String>,
    /// Access key secret (also `OSS_ACCESS_KEY_SECRET`): client commands and `emulator`
    #[arg(
        long = "access-key-secret",
        id = "top_access_key_secret",
        value_name = "SECRET"
    )]
    pub access_key_secret: Option<String>,
    /// STS security token (also `OSS_SESSION_TOKEN`): client commands and `emulator`
    #[arg(long = "session-token", id = "top_session_token", value_name = "TOKEN")]
    pub session_token: Option<String>,
    /// Credentials profile: client commands
    #[arg(long = "profile", id = "top_profile", value_name = "NAME")]
    pub profile: Option<String>,
    /// INI credentials file: client commands
    #[arg(
        long = "credentials-file",
        id = "top_credentials_file",
        value_name = "PATH"
    )]
    pub credentials_file: Option<PathBuf>,
}

impl fmt::Debug for TopClientArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopClientArgs")
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "***"),
            )
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("profile", &self.profile)
            .field("credentials_file", &self.credentials_file)
            .finish()
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy files to or from OSS: upload a file, stdin or (-r) a directory; download an
    /// object to a file or stdout, or (-r) a prefix to a directory
    #[command(after_help = CP_EXAMPLES)]
    Cp(CpArgs),
    /// Print a presigned URL (and the headers to send with it)
    #[command(after_help = PRESIGN_EXAMPLES)]
    Presign(PresignArgs),
    /// Print the fields of a signed browser upload form (PostObject), optionally as an HTML page
    #[command(after_help = FORM_EXAMPLES)]
    Form(FormArgs),
    /// Show which source supplies the credentials (masked access key id, expiry; never the
    /// secret)
    #[command(after_help = CREDENTIALS_EXAMPLES)]
    Credentials(CredentialsArgs),
    /// Run the local OSS emulator (verifies signatures, delivers signed callbacks)
    #[command(after_help = EMULATOR_EXAMPLES)]
    Emulator(EmulatorArgs),
    /// Run a callback server that verifies OSS's signature and prints what it receives
    #[command(after_help = CALLBACK_SERVER_EXAMPLES)]
    CallbackServer(CallbackServerArgs),
    /// List objects under a prefix (recursive; -d for one level), or the buckets
    #[command(after_help = crate::ls::LS_EXAMPLES)]
    Ls(crate::ls::LsArgs),
    /// Show an object's properties (HeadObject), or a bucket's (GetBucketInfo)
    #[command(after_help = crate::stat::STAT_EXAMPLES)]
    Stat(crate::stat::StatArgs),
    /// Remove an object, or with -r every object under a prefix
    #[command(after_help = crate::rm::RM_EXAMPLES)]
    Rm(crate::rm::RmArgs),
    /// List or abort multipart uploads in progress (their parts are stored and billed)
    #[command(after_help = crate::uploads::UPLOADS_EXAMPLES)]
    Uploads(crate::uploads::UploadsArgs),
    /// Make a bucket (PutBucket)
    #[command(after_help = crate::bucket::MB_EXAMPLES)]
    Mb(crate::bucket::BucketArgs),
    /// Remove an empty bucket (DeleteBucket)
    #[command(after_help = crate::bucket::RB_EXAMPLES)]
    Rb(crate::bucket::BucketArgs),
}

/// `oss-rs cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// What to copy: a local file or directory (with -r), `-` for stdin, or oss://bucket/key
    /// (oss://bucket/prefix/ with -r)
    #[arg(value_parser = crate::cp_path::cp_path_arg, value_name = "SOURCE")]
    pub source: crate::cp_path::CpPath,
    /// Where to: oss://bucket/key (a key ending in '/' gets the file name appended), a local
    /// file or directory, or `-` for stdout
    #[arg(value_parser = crate::cp_path::cp_path_arg, value_name = "DESTINATION")]
    pub destination: crate::cp_path::CpPath,
    /// Copy a directory tree to a prefix, or every object under a prefix to a directory
    #[arg(short, long)]
    pub recursive: bool,
    /// Files copied at once with -r (each also runs --parallel parts) [default: 3]
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// With -r, upload the targets of symbolic links [default: skip them with a warning]
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip files that already exist at the destination instead of overwriting them
    #[arg(long)]
    pub no_clobber: bool,
    /// Upload callback (with -r, per file; `{relpath}` in a --callback-var value becomes the
    /// file's path relative to the source directory)
    #[command(flatten)]
    pub callback: CallbackArgs,
    /// Part size for multipart uploads and ranged downloads, e.g. 16MiB (100KiB..5GiB) [default: 6MiB]
    #[arg(long, value_parser = size_arg, value_name = "SIZE")]
    pub part_size: Option<u64>,
    /// Parts uploaded (or ranges downloaded) at once, per file [default: 3]
    #[arg(long, value_parser = crate::validate::at_least_one, value_name = "N")]
    pub parallel: Option<usize>,
    /// Make the upload or download resumable: keep a checkpoint in this directory, and resume
    /// from it
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Uploads: compute no CRC-64 and compare none with OSS's (saves CPU on large files; a
    /// corruption between this machine's memory and OSS's storage then goes unnoticed).
    /// Downloads still check [default: CRC-64 on]
    #[arg(long)]
    pub no_crc: bool,
    /// Options of the stored object
    #[command(flatten)]
    pub object_options: crate::object_args::ObjectArgs,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `oss-rs credentials`: no options of its own; `--profile` and `--credentials-file` apply.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `oss-rs presign`.
#[derive(Debug, Args)]
pub struct PresignArgs {
    /// The operation.
    #[command(subcommand)]
    pub operation: PresignOperation,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// What `oss-rs presign` signs.
#[derive(Debug, Subcommand)]
pub enum PresignOperation {
    /// A URL to upload one object (PutObject), optionally with a callback
    #[command(after_help = PRESIGN_PUT_EXAMPLES)]
    Put(PresignPutArgs),
    /// A URL to download one object (GetObject)
    #[command(after_help = PRESIGN_GET_EXAMPLES)]
    Get(PresignGetArgs),
}

/// `oss-rs presign put`.
#[derive(Debug, Args)]
pub struct PresignPutArgs {
    /// The object, oss://bucket/key
    #[arg(value_parser = object_url_arg)]
    pub object: ObjectUrl,
    /// Seconds the URL stays valid (1..=604800)
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub expires: u64,
    /// Upload callback
    #[command(flatten)]
    pub callback: CallbackArgs,
    /// Where the callback rides: signed headers the uploader must send, or the URL's query
    #[arg(long, value_enum, default_value_t = CarrierArg::Header)]
    pub callback_carrier: CarrierArg,
    /// Options of the stored object, signed: the uploader must send them as printed
    #[command(flatten)]
    pub object_options: crate::object_args::ObjectArgs,
}

/// `oss-rs presign get`.
#[derive(Debug, Args)]
pub struct PresignGetArgs {
    /// The object, oss://bucket/key
    #[arg(value_parser = object_url_arg)]
    pub object: ObjectUrl,
    /// Seconds the URL stays valid (1..=604800)
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub expires: u64,
}

/// `--callback-carrier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CarrierArg {
    /// `x-oss-callback` / `x-oss-callback-var` headers (signed; must be sent as printed)
    Header,
    /// `callback` / `callback-var` query parameters (the URL alone is enough)
    Query,
}

/// `oss-rs form`.
#[derive(Debug, Args)]
pub struct FormArgs {
    /// Where uploads go: oss://bucket/key-prefix (the browser's file name is appended)
    #[arg(value_parser = object_url_arg)]
    pub prefix: ObjectUrl,
    /// Upload callback
    #[command(flatten)]
    pub callback: CallbackArgs,
    /// Largest accepted file, e.g. 10MiB [default: no limit but OSS's 5 GiB]
    #[arg(long, value_parser = size_arg, value_name = "SIZE")]
    pub max_size: Option<u64>,
    /// Seconds the form's policy stays valid (1..=604800, up to a year with
    /// --allow-long-expiry)
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub expires: u64,
    /// Allow --expires past 7 days (at most a year): a leaked form uploads until it expires
    #[arg(long)]
    pub allow_long_expiry: bool,
    /// Also write a minimal HTML upload page to this file
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Endpoint and addressing.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `oss-rs emulator`: the flags are oss-emulator's own [`oss_emulator::cli::ServeArgs`], shared
/// with the `oss-emulator` binary; region and credentials come from the global options.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The emulator's flags (--session-token is also used as --sts-token)
    #[command(flatten)]
    pub serve: oss_emulator::cli::ServeArgs,
    /// The region and the access key the emulator accepts.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// `oss-rs callback-server`.
#[derive(Debug, Args)]
pub struct CallbackServerArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Also trust public keys served under this URL (repeatable), e.g. the emulator's
    /// http://127.0.0.1:9000 . A key URL must have the same scheme, host and port and a path
    /// under this one at a '/'. An http:// entry is fetched over plain HTTP: use it for tests
    /// and the emulator only. OSS's gosspublic.alicdn.com is always trusted and always fetched
    /// over HTTPS
    #[arg(long, value_name = "URL_PREFIX")]
    pub trust_key_url_prefix: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_examples() {
        let mut cmd = Cli::command();
        cmd.build();
        assert!(cmd.get_after_help().is_some());
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            assert!(
                sub.get_after_help()
                    .is_some_and(|h| h.to_string().contains("Examples:")),
                "{}",
                sub.get_name()
            );
            for sub2 in sub.get_subcommands().filter(|s| s.get_name() != "help") {
                assert!(sub2.get_after_help().is_some(), "{}", sub2.get_name());
            }
        }
    }

    #[test]
    fn secrets_are_masked_in_debug() {
        let cli = Cli::try_parse_from([
            "oss-rs",
            "--access-key-id",
            "AKID",
            "--access-key-secret",
            "s3cr3t",
            "--session-token",
            "t0k3n",
            "presign",
            "get",
            "oss://b/k",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(debug.contains("AKID"));
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("t0k3n"),
            "{debug}"
        );
    }
}
