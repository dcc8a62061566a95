//! Client-side checks that mirror the CRD's CEL rules, so the CLI can refuse bad input
//! with one clear line before it talks to a cluster. The API server stays the authority:
//! these never accept something the CRD would reject.

/// The longest instance name whose derived names all fit: `restore-NAME-job` is also a
/// label value (`job-name`), and label values are at most 63 characters.
pub const MAX_NAME_LEN: usize = 51;

pub fn instance_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "invalid name {name:?}: it must be 1 to {MAX_NAME_LEN} characters long"
        ));
    }
    let bytes = name.as_bytes();
    let valid_chars = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !valid_chars || !bytes[0].is_ascii_lowercase() || bytes[bytes.len() - 1] == b'-' {
        return Err(format!(
            "invalid name {name:?}: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
        ));
    }
    Ok(())
}

pub fn database(database: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&database.len())
        && database
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid database {database:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '_', '$' and '-'"
        ))
    }
}

pub fn image(image: &str) -> Result<(), String> {
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        Err(format!(
            "invalid image {image:?}: it must not be empty or contain spaces"
        ))
    } else {
        Ok(())
    }
}

/// Accepts the usual forms of a positive Kubernetes quantity: a decimal number with an
/// optional binary (Ki..Ei) or decimal (k, M..E) suffix.
pub fn storage_size(size: &str) -> Result<(), String> {
    const SUFFIXES: [&str; 13] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E", "",
    ];
    let err = || {
        Err(format!(
            "invalid storage size {size:?}: use a positive Kubernetes quantity such as 1Gi or 500Mi"
        ))
    };
    let Some(number) = SUFFIXES.iter().find_map(|s| size.strip_suffix(s)) else {
        return err();
    };
    let mut parts = number.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits(whole) && fraction.is_none_or(digits);
    let positive = number.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if well_formed && positive {
        Ok(())
    } else {
        err()
    }
}

/// A Kubernetes quantity in whole units (bytes for memory; for CPU, cores rounded
/// up, enough to tell a positive amount): a decimal number with an optional binary
/// (Ki..Ei), decimal (k, M..E) or milli (m) suffix. None when it is not one.
pub fn quantity_bytes(quantity: &str) -> Option<u64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(s, f)| quantity.strip_suffix(s).map(|n| (n, *f)))
        .unwrap_or((quantity, 1.0));
    let well_formed = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().filter(|b| *b == b'.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    if !well_formed {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some((value * factor).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(instance_name("mysql-instance").is_ok());
        assert!(instance_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(instance_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
        for bad in ["", "1abc", "Abc", "ab_c", "abc-", "a.b"] {
            assert!(instance_name(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn databases() {
        assert!(database("otus-database").is_ok());
        assert!(database("a$b_c").is_ok());
        for bad in ["", "a b", "a`b", "a.b", "a/b", "a;drop"] {
            assert!(database(bad).is_err(), "{bad} accepted");
        }
        assert!(database(&"d".repeat(65)).is_err());
    }

    #[test]
    fn sizes() {
        for good in ["1Gi", "500Mi", "1.5Gi", "10G", "1073741824", "2k"] {
            assert!(storage_size(good).is_ok(), "{good} refused");
        }
        for bad in ["", "Gi", "1GB", "-1Gi", "0", "0Gi", "1.Gi", "abc", "1 Gi"] {
            assert!(storage_size(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert_eq!(quantity_bytes("768Mi"), Some(768 << 20));
        assert_eq!(quantity_bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(quantity_bytes("2G"), Some(2_000_000_000));
        assert_eq!(quantity_bytes("1048576"), Some(1 << 20));
        assert_eq!(quantity_bytes("500m"), Some(1));
        assert_eq!(quantity_bytes("0"), Some(0));
        for bad in ["", "Gi", "1GB", "-1", "1.Gi", "abc", "1 Gi"] {
            assert_eq!(quantity_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn images() {
        assert!(image("mysql:8.4").is_ok());
        assert!(image("").is_err());
        assert!(image("my sql").is_err());
    }
}
