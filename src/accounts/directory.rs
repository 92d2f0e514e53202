//! The listed names' cache: one `ListAccounts` listing per container and hour, never an error.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::AccountNames;

/// A listing in progress: (account id, name) pairs, or why there are none (one line).
pub type ListFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, String>> + Send + 'a>>;

/// Lists the accounts to name (Organizations `ListAccounts` in production; in memory in tests).
pub trait AccountLister: Send + Sync {
    fn list_accounts(&self) -> ListFuture<'_>;
}

/// Names kept fresh from an [`AccountLister`]: [`AccountDirectory::refresh_if_due`] lists the
/// accounts when the last listing is older than the time to live (one hour by default: account
/// names rarely change, and a Lambda container lives for hours at most).
///
/// A failed listing (no permission, throttled, not in an organisation) is one warning line; the
/// names of the last good listing stay (none at first) and the next attempt waits
/// `retry_after_failure` (five minutes), so a broken setup neither fails objects nor adds a slow
/// call to every invocation.
pub struct AccountDirectory {
    lister: Box<dyn AccountLister>,
    names: AccountNames,
    ttl: Duration,
    retry_after_failure: Duration,
    next_refresh: Mutex<Option<Instant>>,
}

/// Default time to live of a listing.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Default wait after a failed listing.
pub const DEFAULT_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(300);

impl AccountDirectory {
    /// Listed names go into `names` (share it with the detector: `Detector::account_names`).
    pub fn new(lister: Box<dyn AccountLister>, names: AccountNames) -> AccountDirectory {
        AccountDirectory {
            lister,
            names,
            ttl: DEFAULT_TTL,
            retry_after_failure: DEFAULT_RETRY_AFTER_FAILURE,
            next_refresh: Mutex::new(None),
        }
    }

    /// Other time to live and wait after failure (tests).
    pub fn with_timing(mut self, ttl: Duration, retry_after_failure: Duration) -> AccountDirectory {
        self.ttl = ttl;
        self.retry_after_failure = retry_after_failure;
        self
    }

    /// The names this directory fills.
    pub fn names(&self) -> &AccountNames {
        &self.names
    }

    /// Lists the accounts if the last listing is due for a refresh. Never fails: see the type.
    pub async fn refresh_if_due(&self) {
        let now = Instant::now();
        let due = self
            .next_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|next| now >= next);
        if !due {
            return;
        }
        let next = match self.lister.list_accounts().await {
            Ok(accounts) => {
                let count = accounts.len();
                self.names
                    .set_listed(accounts.into_iter().collect::<HashMap<_, _>>());
                tracing::info!(accounts = count, "account names listed");
                now + self.ttl
            }
            Err(error) => {
                tracing::warn!(%error, "account names unavailable: alerts carry account ids without names until the next attempt");
                now + self.retry_after_failure
            }
        };
        *self
            .next_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(next);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Answers from a script of results, counting calls.
    struct Scripted {
        calls: Arc<AtomicUsize>,
        results: Vec<Result<Vec<(String, String)>, String>>,
    }

    impl AccountLister for Scripted {
        fn list_accounts(&self) -> ListFuture<'_> {
            let i = self.calls.fetch_add(1, Ordering::SeqCst);
            let result = self.results[i.min(self.results.len() - 1)].clone();
            Box::pin(async move { result })
        }
    }

    fn pair(id: &str, name: &str) -> (String, String) {
        (id.to_owned(), name.to_owned())
    }

    fn directory(
        results: Vec<Result<Vec<(String, String)>, String>>,
        ttl: Duration,
    ) -> (AccountDirectory, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let lister = Scripted {
            calls: Arc::clone(&calls),
            results,
        };
        let d =
            AccountDirectory::new(Box::new(lister), AccountNames::default()).with_timing(ttl, ttl);
        (d, calls)
    }

    #[tokio::test]
    async fn lists_once_per_time_to_live() {
        let (d, calls) = directory(
            vec![
                Ok(vec![pair("123456789012", "prod")]),
                Ok(vec![pair("123456789012", "prod-renamed")]),
            ],
            Duration::from_secs(3600),
        );
        d.refresh_if_due().await;
        d.refresh_if_due().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "cached");
        assert_eq!(d.names().name("123456789012").as_deref(), Some("prod"));

        let (d, calls) = directory(
            vec![
                Ok(vec![pair("123456789012", "prod")]),
                Ok(vec![pair("123456789012", "prod-renamed")]),
            ],
            Duration::ZERO,
        );
        d.refresh_if_due().await;
        d.refresh_if_due().await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "expired: listed again");
        assert_eq!(
            d.names().name("123456789012").as_deref(),
            Some("prod-renamed")
        );
    }

    #[tokio::test]
    async fn a_failed_listing_keeps_the_last_names_and_waits() {
        let (d, calls) = directory(
            vec![
                Ok(vec![pair("123456789012", "prod")]),
                Err("organizations: AccessDeniedException".into()),
            ],
            Duration::ZERO,
        );
        d.refresh_if_due().await;
        d.refresh_if_due().await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(d.names().name("123456789012").as_deref(), Some("prod"));

        let (d, calls) = directory(
            vec![Err(
                "organizations: AWSOrganizationsNotInUseException".into()
            )],
            Duration::from_secs(300),
        );
        d.refresh_if_due().await;
        d.refresh_if_due().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no retry before the wait");
        assert!(d.names().is_empty());
    }
}
