use crate::render::RenderError;

/// Errors of the reconcile library. The CLI turns them into one line with anyhow.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    #[error(transparent)]
    Render(#[from] RenderError),

    /// The finalizer helper embeds our own error, hence the box.
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),

    /// The object's spec cannot be acted on until someone changes it.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    /// Not an failure: a step is still under way (a Job, a deletion); try again soon.
    #[error("waiting: {0}")]
    Waiting(String),

    /// A step failed for a reason the operator cannot fix itself; it retries slowly.
    #[error("{0}")]
    Blocked(String),

    #[error("object has no {0}")]
    MissingField(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
