//! Counts the operator's own API requests by verb (a tower layer on its client), so its
//! cost can be read from its /metrics without the API server's totals, which mix in
//! every other client.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbLabels {
    pub verb: &'static str,
    /// The resource's plural, with `/status` for the status subresource: where the
    /// requests go, for the benchmark's breakdown.
    pub resource: String,
}

#[derive(Default)]
pub struct RequestCounter {
    counts: Family<VerbLabels, Counter>,
}

impl RequestCounter {
    pub fn record<B>(&self, request: &http::Request<B>) {
        let verb = verb_of(
            request.method(),
            request.uri().path(),
            request.uri().query(),
        );
        let resource = resource_of(request.uri().path());
        self.counts
            .get_or_create(&VerbLabels { verb, resource })
            .inc();
    }

    /// The counters, for the metrics registry (a Family is a shared handle).
    pub fn family(&self) -> Family<VerbLabels, Counter> {
        self.counts.clone()
    }
}

/// The Kubernetes verb of a request: GETs are told apart by `watch=` and by whether
/// the path names one object or a collection.
pub fn verb_of(method: &http::Method, path: &str, query: Option<&str>) -> &'static str {
    match *method {
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => "delete",
        _ if query.is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1")) => {
            "watch"
        }
        _ => {
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            // /api/v1/... or /apis/GROUP/VERSION/...
            let rest = match segments.first() {
                Some(&"api") => segments.get(2..),
                Some(&"apis") => segments.get(3..),
                _ => None,
            }
            .unwrap_or_default();
            let rest = match rest {
                ["namespaces", _, tail @ ..] if !tail.is_empty() => tail,
                other => other,
            };
            if rest.len() == 1 { "list" } else { "get" }
        }
    }
}

/// The resource a request path names: `secrets`, `mysqls/status`, `events`.
pub fn resource_of(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segments.first() {
        Some(&"api") => segments.get(2..),
        Some(&"apis") => segments.get(3..),
        _ => None,
    }
    .unwrap_or_default();
    let rest = match rest {
        ["namespaces", _, tail @ ..] if !tail.is_empty() => tail,
        other => other,
    };
    match rest {
        [kind, _, sub, ..] => format!("{kind}/{sub}"),
        [kind, ..] => (*kind).to_string(),
        [] => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn resources() {
        assert_eq!(resource_of("/api/v1/namespaces/ns/secrets/s"), "secrets");
        assert_eq!(resource_of("/api/v1/namespaces/ns/secrets"), "secrets");
        assert_eq!(resource_of("/api/v1/namespaces/default"), "namespaces");
        assert_eq!(
            resource_of("/api/v1/persistentvolumes/pv"),
            "persistentvolumes"
        );
        assert_eq!(
            resource_of("/apis/otus.homework/v1/namespaces/n/mysqls/a/status"),
            "mysqls/status"
        );
        assert_eq!(resource_of("/version"), "other");
    }

    #[test]
    fn verbs() {
        let get = Method::GET;
        assert_eq!(
            verb_of(&get, "/api/v1/namespaces/ns/secrets/s", None),
            "get"
        );
        assert_eq!(
            verb_of(
                &get,
                "/api/v1/namespaces/ns/secrets",
                Some("labelSelector=a")
            ),
            "list"
        );
        assert_eq!(
            verb_of(
                &get,
                "/apis/otus.homework/v1/mysqls",
                Some("watch=true&resourceVersion=1")
            ),
            "watch"
        );
        assert_eq!(verb_of(&get, "/api/v1/persistentvolumes/pv", None), "get");
        assert_eq!(verb_of(&get, "/api/v1/persistentvolumes", None), "list");
        assert_eq!(verb_of(&get, "/api/v1/namespaces", None), "list");
        assert_eq!(verb_of(&get, "/api/v1/namespaces/default", None), "get");
        assert_eq!(
            verb_of(
                &Method::PATCH,
                "/apis/otus.homework/v1/namespaces/n/mysqls/a/status",
                None
            ),
            "patch"
        );
        assert_eq!(
            verb_of(&Method::POST, "/apis/batch/v1/namespaces/n/jobs", None),
            "create"
        );
    }
}
