//! The one error type: every failure carries a bk-cmdb error code and renders
//! bk-cmdb's English message byte for byte.
//!
//! The code of a variant and its message template sit side by side in this
//! file ([`Error::code`] and the `Display` impl), so a reader checks both
//! against bk-cmdb's resource file in one place. Templates are bk-cmdb's own, typos and double
//! spaces included (`the  inst to asst  is not exist`).

use std::fmt;

/// A failed call, with the bk-cmdb error code ([`Error::code`]) and bk-cmdb's
/// English message (`Display`).
///
/// Variants carry the facts the message is rendered from (field names,
/// limits, model ids), so a caller can match on them instead of parsing text.
///
/// ```
/// use assocstore::Error;
/// let err = Error::ExceedLimit { what: "details".into(), limit: 200 };
/// assert_eq!(err.code(), 1_199_035);
/// assert_eq!(err.to_string(), " details exceed the limit 200");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// 1199000 `Deserializing JSON data failed`: a body could not be decoded.
    JsonDecode,
    /// 1199006 with the bare message `Deserializing JSON data failed`: a body
    /// that does not decode, for the APIs where bk-cmdb re-wraps the decode
    /// error as a parameter error (`add_instance_association`,
    /// `find_instance_association`, `delete_related_inst_asso`).
    BodyInvalid,
    /// 1199003 `invalid input parameter`: for example an empty id list.
    InvalidInput,
    /// 1199006 `'<field>' data parameter verification does not pass`.
    ParamInvalid {
        /// The offending field or key, e.g. `bk_obj_id`, `page.limit`, `$regex`.
        field: String,
    },
    /// 1199009 `'<field>' parameters must be integral`.
    ParamNotInteger {
        /// The field that should have been an integer.
        field: String,
    },
    /// 1199010 `'<field>' unassigned`: a required value is missing or empty.
    ParamUnassigned {
        /// The missing field, e.g. `bk_obj_id`.
        field: String,
    },
    /// 1199011 `'<field>' the parameter is invalid or does not exist`.
    ParamNotFound {
        /// The field, e.g. `bk_obj_asst_id` or `api`.
        field: String,
    },
    /// 1199014 `duplicated instances exist, fields [<fields>] duplicated`.
    Duplicated {
        /// What is duplicated: `association`, `bk_inst_id`, a kind id or a
        /// model association id.
        fields: String,
    },
    /// 1199035 ` <what> exceed the limit <limit>` (the leading space is bk-cmdb's).
    ExceedLimit {
        /// What is too long, e.g. `details`.
        what: String,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// 1199038 `need data <what> is null`: a required list is empty.
    DataNull {
        /// The empty list, e.g. `details`.
        what: String,
    },
    /// 1199059 `page limit is exceeded. suggestion 200`.
    PageLimitExceeded,
    /// 1101038 `the associations <source model>-><target model> already exist`.
    AssociationAlreadyExists {
        /// Source model id (`bk_obj_id`).
        src_model: String,
        /// Target model id (`bk_asst_obj_id`).
        dst_model: String,
    },
    /// 1101043 `object association has already been instantiated, can not be deleted.`
    ModelAssociationInUse,
    /// 1101045 `object association missing parameters.`
    ModelAssociationMissingParameters,
    /// 1101046 `object association does not exist.`
    ModelAssociationNotFound,
    /// 1101052 `can not create multiple instance association for a 1:1 association.`
    OneToOneViolation,
    /// 1101061 `The relationship is 1:n, and multiple source model instances cannot be associated at the same time.`
    OneToManyViolation,
    /// 1101072 `the association kind is not exist`.
    AssociationKindNotFound,
    /// 1101073 `the association inst is not exist`: the source instance is not registered.
    SourceInstanceNotFound,
    /// 1101074 `the  inst to asst  is not exist` (two double spaces): the
    /// target instance is not registered.
    TargetInstanceNotFound,
    /// 1101075 `the inst has association`: an instance is still linked to an
    /// instance that exists.
    InstanceHasAssociation,
    /// 1101082 `bk_mainline association type can't use in this scene`.
    MainlineNotAllowed,
    /// 1199031 `'<dir>' initialization failed`: a durable store could not
    /// be opened; the cause is [`std::error::Error::source`].
    OpenFailed {
        /// The store's directory.
        dir: String,
        /// Why.
        cause: OpenFailure,
    },
    /// 1199061 `commit transcation failed, error:<message>` (bk-cmdb's
    /// typo): a durable store could not write or sync its journal, or
    /// turned read-only after such a failure.
    CommitFailed {
        /// The OS error, or why the store is read-only.
        message: String,
    },
    /// 1103007 `the event cursor does not exist or has expired` (bk-cmdb's
    /// `CCErrEventChainNodeNotExist`): a change-feed cursor older than the
    /// oldest retained event, beyond the newest, or issued by another store.
    /// Clients answer it by watching again from now.
    CursorExpired,
}

/// Why a durable store did not open ([`Error::OpenFailed`]).
///
/// ```
/// use assocstore::OpenFailure;
/// let why = OpenFailure::Corrupt { file: "journal-0000000000000001.wal".into(), offset: 48, what: "checksum mismatch".into() };
/// assert_eq!(why.to_string(), "journal-0000000000000001.wal: checksum mismatch at byte offset 48");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenFailure {
    /// Another store, in this process or another, has the directory open.
    Locked,
    /// A file does not verify, somewhere other than a torn journal tail.
    Corrupt {
        /// The file, as a path.
        file: std::path::PathBuf,
        /// The byte offset of the damage in it.
        offset: u64,
        /// What does not verify.
        what: String,
    },
    /// A file written by a format version this build does not read.
    UnsupportedVersion {
        /// The file, as a path.
        file: std::path::PathBuf,
        /// Its format version.
        version: u32,
    },
    /// The operating system refused an operation.
    Io {
        /// What was being done, with the path.
        op: String,
        /// The OS error.
        message: String,
    },
}

impl fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenFailure::Locked => f.write_str("the directory is open in another store (locked)"),
            OpenFailure::Corrupt { file, offset, what } => {
                write!(f, "{}: {what} at byte offset {offset}", file.display())
            }
            OpenFailure::UnsupportedVersion { file, version } => {
                write!(
                    f,
                    "{}: unsupported format version {version}",
                    file.display()
                )
            }
            OpenFailure::Io { op, message } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for OpenFailure {}

impl Error {
    /// The bk-cmdb error code of this error.
    ///
    /// ```
    /// assert_eq!(assocstore::Error::TargetInstanceNotFound.code(), 1_101_074);
    /// ```
    pub fn code(&self) -> i64 {
        match self {
            Error::JsonDecode => 1_199_000,
            Error::InvalidInput => 1_199_003,
            Error::ParamInvalid { .. } | Error::BodyInvalid => 1_199_006,
            Error::ParamNotInteger { .. } => 1_199_009,
            Error::ParamUnassigned { .. } => 1_199_010,
            Error::ParamNotFound { .. } => 1_199_011,
            Error::Duplicated { .. } => 1_199_014,
            Error::ExceedLimit { .. } => 1_199_035,
            Error::DataNull { .. } => 1_199_038,
            Error::PageLimitExceeded => 1_199_059,
            Error::AssociationAlreadyExists { .. } => 1_101_038,
            Error::ModelAssociationInUse => 1_101_043,
            Error::ModelAssociationMissingParameters => 1_101_045,
            Error::ModelAssociationNotFound => 1_101_046,
            Error::OneToOneViolation => 1_101_052,
            Error::OneToManyViolation => 1_101_061,
            Error::AssociationKindNotFound => 1_101_072,
            Error::SourceInstanceNotFound => 1_101_073,
            Error::TargetInstanceNotFound => 1_101_074,
            Error::InstanceHasAssociation => 1_101_075,
            Error::MainlineNotAllowed => 1_101_082,
            Error::OpenFailed { .. } => 1_199_031,
            Error::CommitFailed { .. } => 1_199_061,
            Error::CursorExpired => 1_103_007,
        }
    }

    /// `ParamInvalid` naming `field` (1199006).
    pub(crate) fn invalid(field: impl Into<String>) -> Error {
        Error::ParamInvalid {
            field: field.into(),
        }
    }

    /// `ParamUnassigned` naming `field` (1199010).
    pub(crate) fn unassigned(field: impl Into<String>) -> Error {
        Error::ParamUnassigned {
            field: field.into(),
        }
    }

    /// `ParamNotFound` naming `field` (1199011).
    pub(crate) fn not_found(field: impl Into<String>) -> Error {
        Error::ParamNotFound {
            field: field.into(),
        }
    }

    /// `Duplicated` naming `fields` (1199014).
    pub(crate) fn duplicated(fields: impl Into<String>) -> Error {
        Error::Duplicated {
            fields: fields.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::JsonDecode | Error::BodyInvalid => f.write_str("Deserializing JSON data failed"),
            Error::InvalidInput => f.write_str("invalid input parameter"),
            Error::ParamInvalid { field } => {
                write!(f, "'{field}' data parameter verification does not pass")
            }
            Error::ParamNotInteger { field } => write!(f, "'{field}' parameters must be integral"),
            Error::ParamUnassigned { field } => write!(f, "'{field}' unassigned"),
            Error::ParamNotFound { field } => {
                write!(f, "'{field}' the parameter is invalid or does not exist")
            }
            Error::Duplicated { fields } => {
                write!(f, "duplicated instances exist, fields [{fields}] duplicated")
            }
            Error::ExceedLimit { what, limit } => write!(f, " {what} exceed the limit {limit}"),
            Error::DataNull { what } => write!(f, "need data {what} is null"),
            Error::PageLimitExceeded => f.write_str("page limit is exceeded. suggestion 200"),
            Error::AssociationAlreadyExists {
                src_model,
                dst_model,
            } => write!(f, "the associations {src_model}->{dst_model} already exist"),
            Error::ModelAssociationInUse => f.write_str(
                "object association has already been instantiated, can not be deleted.",
            ),
            Error::ModelAssociationMissingParameters => {
                f.write_str("object association missing parameters.")
            }
            Error::ModelAssociationNotFound => f.write_str("object association does not exist."),
            Error::OneToOneViolation => f.write_str(
                "can not create multiple instance association for a 1:1 association.",
            ),
            Error::OneToManyViolation => f.write_str(
                "The relationship is 1:n, and multiple source model instances cannot be associated at the same time.",
            ),
            Error::AssociationKindNotFound => f.write_str("the association kind is not exist"),
            Error::SourceInstanceNotFound => f.write_str("the association inst is not exist"),
            Error::TargetInstanceNotFound => f.write_str("the  inst to asst  is not exist"),
            Error::InstanceHasAssociation => f.write_str("the inst has association"),
            Error::MainlineNotAllowed => {
                f.write_str("bk_mainline association type can't use in this scene")
            }
            Error::OpenFailed { dir, .. } => write!(f, "'{dir}' initialization failed"),
            Error::CommitFailed { message } => {
                write!(f, "commit transcation failed, error:{message}")
            }
            Error::CursorExpired => f.write_str("the event cursor does not exist or has expired"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::OpenFailed { cause, .. } => Some(cause),
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
