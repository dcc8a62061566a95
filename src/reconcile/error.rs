use crate::render::RenderError;

/// Failures of the reconcile library, one variant per step. An expected wait (a Job
/// running, a deletion under way) is never an error: the plan says when to look again.
/// The CLI turns these into one line with anyhow.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the cluster failed (observe).
    #[error("reading {what}: {source}")]
    Observe {
        what: String,
        #[source]
        source: kube::Error,
    },

    /// A template did not render (plan).
    #[error(transparent)]
    Render(#[from] RenderError),

    /// A write of the plan failed (apply).
    #[error("writing {what}: {source}")]
    Apply {
        what: String,
        #[source]
        source: kube::Error,
    },

    /// The server's certificate could not be made.
    #[error("issuing the server's certificate: {0}")]
    Certificate(String),

    /// Writing the status subresource failed.
    #[error("writing the status of {what}: {source}")]
    Status {
        what: String,
        #[source]
        source: kube::Error,
    },

    /// Adding or removing our finalizer failed.
    #[error("updating the finalizer of {what}: {source}")]
    Finalizer {
        what: String,
        #[source]
        source: kube::Error,
    },

    /// The bucket refused a write (apply).
    #[error("{what}: {message}")]
    Bucket { what: String, message: String },

    /// A statement run in a member's server failed (apply).
    #[error("{what}: {message}")]
    Member { what: String, message: String },

    #[error("object has no {0}")]
    MissingField(&'static str),

    /// The plan needs a read that observe did not make: observe and the plan disagree
    /// about what a decision rests on (or a test's snapshot describes a world observe
    /// never produces). Never taken for "absent".
    #[error("the plan needs {0}, which observe did not read")]
    NotObserved(&'static str),
}

impl Error {
    /// The step that failed, for the metrics.
    pub fn step(&self) -> &'static str {
        match self {
            Error::Observe { .. } => "observe",
            Error::Render(_) => "render",
            Error::Certificate(_) => "certificate",
            Error::Apply { .. } => "apply",
            Error::Status { .. } => "status",
            Error::Finalizer { .. } => "finalizer",
            Error::Bucket { .. } => "bucket",
            Error::Member { .. } => "member",
            Error::MissingField(_) => "invalid_object",
            Error::NotObserved(_) => "not_observed",
        }
    }

    pub fn observe(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let what = what.into();
        move |source| Error::Observe { what, source }
    }

    pub fn apply(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let what = what.into();
        move |source| Error::Apply { what, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
