//! The stored object's options shared by `cp` and `presign put`: `--content-type`, `--meta`,
//! `--acl` and `--storage-class`.

use clap::{Args, ValueEnum};
use oss_upload::{ObjectAcl, ObjectOptions, StorageClass};

/// `--acl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AclArg {
    /// The bucket's ACL
    Default,
    /// Owner only
    Private,
    /// Anyone may read
    PublicRead,
    /// Anyone may read and write
    PublicReadWrite,
}

impl From<AclArg> for ObjectAcl {
    fn from(acl: AclArg) -> Self {
        match acl {
            AclArg::Default => ObjectAcl::Default,
            AclArg::Private => ObjectAcl::Private,
            AclArg::PublicRead => ObjectAcl::PublicRead,
            AclArg::PublicReadWrite => ObjectAcl::PublicReadWrite,
        }
    }
}

/// `--storage-class`, with OSS's wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageClassArg {
    /// Standard
    #[value(name = "Standard", alias = "standard")]
    Standard,
    /// Infrequent access
    #[value(name = "IA", alias = "ia")]
    Ia,
    /// Archive
    #[value(name = "Archive", alias = "archive")]
    Archive,
    /// Cold archive
    #[value(name = "ColdArchive", alias = "coldarchive")]
    ColdArchive,
    /// Deep cold archive
    #[value(name = "DeepColdArchive", alias = "deepcoldarchive")]
    DeepColdArchive,
}

impl From<StorageClassArg> for StorageClass {
    fn from(class: StorageClassArg) -> Self {
        match class {
            StorageClassArg::Standard => StorageClass::Standard,
            StorageClassArg::Ia => StorageClass::InfrequentAccess,
            StorageClassArg::Archive => StorageClass::Archive,
            StorageClassArg::ColdArchive => StorageClass::ColdArchive,
            StorageClassArg::DeepColdArchive => StorageClass::DeepColdArchive,
        }
    }
}

/// Options of the stored object.
#[derive(Debug, Clone, Default, Args)]
pub struct ObjectArgs {
    /// Content-Type of the object [default: from the key's extension]
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
    /// User metadata stored as x-oss-meta-KEY (repeatable), e.g. --meta owner:alice
    #[arg(long = "meta", value_name = "KEY:VALUE", value_parser = meta_arg)]
    pub meta: Vec<(String, String)>,
    /// Object ACL [default: the bucket's]
    #[arg(long, value_enum)]
    pub acl: Option<AclArg>,
    /// Storage class [default: the bucket's]
    #[arg(long, value_enum, value_name = "CLASS")]
    pub storage_class: Option<StorageClassArg>,
}

/// `k:v` → (`k` lower-cased, `v`); OSS keeps metadata names in lower case and allows letters,
/// digits and `-` in them.
fn meta_arg(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?}: expected KEY:VALUE"))?;
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("x-oss-meta-").unwrap_or(&name).to_owned();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "{text:?}: a metadata name is letters, digits and '-'"
        ));
    }
    if value.bytes().any(|b| b.is_ascii_control()) {
        return Err(format!("{text:?}: the value has a control character"));
    }
    Ok((name, value.trim().to_owned()))
}

impl ObjectArgs {
    /// The options for an upload.
    pub(crate) fn to_options(&self) -> ObjectOptions {
        let mut options = ObjectOptions::new();
        if let Some(ct) = &self.content_type {
            options = options.with_content_type(ct.clone());
        }
        for (name, value) in &self.meta {
            options = options.with_metadata(name.clone(), value.clone());
        }
        if let Some(acl) = self.acl {
            options = options.with_acl(acl.into());
        }
        if let Some(class) = self.storage_class {
            options = options.with_storage_class(class.into());
        }
        options
    }

    /// The same options as request headers, for a presigned upload: OSS signs `content-type`
    /// and every `x-oss-*` header, so the uploader must send them exactly.
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(ct) = &self.content_type {
            headers.push(("content-type".to_owned(), ct.clone()));
        }
        for (name, value) in &self.meta {
            headers.push((format!("x-oss-meta-{name}"), value.clone()));
        }
        if let Some(acl) = self.acl {
            headers.push((
                "x-oss-object-acl".to_owned(),
                ObjectAcl::from(acl).as_str().to_owned(),
            ));
        }
        if let Some(class) = self.storage_class {
            headers.push((
                "x-oss-storage-class".to_owned(),
                StorageClass::from(class).as_str().to_owned(),
            ));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_is_key_colon_value() {
        assert_eq!(
            meta_arg("Owner:alice:b"),
            Ok(("owner".into(), "alice:b".into()))
        );
        assert_eq!(meta_arg("x-oss-meta-a:1"), Ok(("a".into(), "1".into())));
        assert!(meta_arg("novalue").is_err());
        assert!(meta_arg("a b:1").is_err());
        assert!(meta_arg(":1").is_err());
    }

    #[test]
    fn headers_for_presign() {
        let args = ObjectArgs {
            content_type: Some("text/plain".into()),
            meta: vec![("a".into(), "b".into())],
            acl: Some(AclArg::PublicRead),
            storage_class: Some(StorageClassArg::Ia),
        };
        assert_eq!(
            args.headers(),
            [
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("x-oss-meta-a".into(), "b".into()),
                ("x-oss-object-acl".into(), "public-read".into()),
                ("x-oss-storage-class".into(), "IA".into()),
            ]
        );
    }
}
