//! [`AccountLister`] over Organizations `ListAccounts` (paginated; the function's role needs
//! `organizations:ListAccounts`, granted by the template only when `ACCOUNT_NAMES=organizations`).
use super::directory::{AccountLister, ListFuture};

/// `ListAccounts`' largest page (the API's maximum `MaxResults`).
pub const MAX_PAGE_SIZE: i32 = 20;

/// Lists the accounts of the organisation the function's account belongs to (from the
/// management account or a delegated administrator; elsewhere the call is denied, which the
/// directory logs once and carries on).
pub struct OrganizationsLister {
    client: aws_sdk_organizations::Client,
    page_size: i32,
}

impl OrganizationsLister {
    pub fn new(client: aws_sdk_organizations::Client) -> OrganizationsLister {
        OrganizationsLister {
            client,
            page_size: MAX_PAGE_SIZE,
        }
    }

    /// Smaller pages (tests exercise the pagination with a few accounts).
    pub fn with_page_size(mut self, page_size: i32) -> OrganizationsLister {
        self.page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }
}

impl AccountLister for OrganizationsLister {
    fn list_accounts(&self) -> ListFuture<'_> {
        Box::pin(async move {
            let mut accounts = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_accounts()
                    .max_results(self.page_size)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| crate::aws::error_line("organizations ListAccounts", &e))?;
                accounts.extend(page.accounts().iter().filter_map(|a| {
                    let name = a.name().map(str::trim).filter(|n| !n.is_empty())?;
                    Some((a.id()?.to_owned(), name.to_owned()))
                }));
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                    _ => return Ok(accounts),
                }
            }
        })
    }
}
