//! The store's failures in one line, from what the S3 server answered or why it
//! could not be reached.

use super::StoreError;

/// The store's error in one line: the S3 error code and message when the server
/// answered (`SignatureDoesNotMatch: …`, `NoSuchBucket: …`), else why it could not
/// be reached.
pub(super) fn store_error(bucket: &str, e: &object_store::Error) -> StoreError {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let message = s3_answer(&chain)
        .or_else(|| unreachable_reason(&chain))
        .unwrap_or(chain)
        .replace('\n', " ");
    StoreError::Store {
        bucket: bucket.to_string(),
        message,
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// `CODE: MESSAGE` from an S3 error document in the text.
fn s3_answer(text: &str) -> Option<String> {
    let code = between(text, "<Code>", "</Code>")?;
    Some(match between(text, "<Message>", "</Message>") {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    })
}

/// For a request that never got an answer: the endpoint and the transport's reason.
fn unreachable_reason(text: &str) -> Option<String> {
    let url = between(text, "Error performing ", " in ")?;
    let reason = text.rsplit(" - ").next()?;
    let reason = reason
        .trim_start_matches("HTTP error: ")
        .trim_start_matches("error sending request: ");
    Some(format!("cannot reach {url}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_the_server_said_in_one_line() {
        let answered = "Error performing POST http://h/b/k?uploads= in 2ms - Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?> <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match.</Message><AWSAccessKeyId>x</AWSAccessKeyId></Error>";
        assert_eq!(
            s3_answer(answered).unwrap(),
            "SignatureDoesNotMatch: The request signature we calculated does not match."
        );
        let refused = "Generic S3 error: Error performing POST http://127.0.0.1:1/b/k?uploads= in 257ms, after 2 retries, max_retries: 2, retry_timeout: 20s  - HTTP error: error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)";
        assert_eq!(s3_answer(refused), None);
        assert_eq!(
            unreachable_reason(refused).unwrap(),
            "cannot reach POST http://127.0.0.1:1/b/k?uploads=: client error (Connect): tcp connect error: Connection refused (os error 111)"
        );
    }
}
