//! The explore feed among 100,000 public images: its first page, a search, and the scored
//! orders, compared with the gallery's first page of the same run.

use super::{Bench, Fixtures, GALLERY_FIRST};
use crate::load::Target;
use crate::server::Server;

const EXPLORE_FIRST: &str = "explore first page (recent), 100,000 public images";
const EXPLORE_SEARCH: &str = "explore search \"neon owl\" (recent), 100,000 public images";
const EXPLORE_SEARCH_RARE: &str = "explore search \"robot 4242\" (recent), 100,000 public images";
const EXPLORE_DEEP: &str = "explore page 5 by cursor (recent), 100,000 public images";
const EXPLORE_POPULAR: &str = "explore first page (popular), 100,000 public images";
const EXPLORE_TRENDING: &str = "explore first page (trending), 100,000 public images";

impl Bench<'_> {
    /// The explore scenarios at `connections` connections, as the web client calls them.
    pub(super) async fn explore(
        &mut self,
        server: &Server,
        f: &Fixtures,
        connections: usize,
    ) -> anyhow::Result<()> {
        let scenarios = [
            (
                EXPLORE_FIRST,
                "/api/v1/explore?page=1&limit=20&sortBy=recent&favoritesOnly=false".to_owned(),
            ),
            (
                EXPLORE_SEARCH,
                "/api/v1/explore/search?q=neon+owl&page=1&limit=20&favoritesOnly=false".to_owned(),
            ),
            (
                EXPLORE_SEARCH_RARE,
                "/api/v1/explore/search?q=robot+4242&page=1&limit=20&favoritesOnly=false"
                    .to_owned(),
            ),
            (
                EXPLORE_DEEP,
                format!(
                    "/api/v1/explore?limit=20&sortBy=recent&cursor={}",
                    self.database.explore_cursor_at(80).await?
                ),
            ),
            (
                EXPLORE_POPULAR,
                "/api/v1/explore?page=1&limit=20&sortBy=popular&favoritesOnly=false".to_owned(),
            ),
            (
                EXPLORE_TRENDING,
                "/api/v1/explore?page=1&limit=20&sortBy=trending&favoritesOnly=false".to_owned(),
            ),
        ];
        for (scenario, path) in scenarios {
            let target = Target::get(path).containing("\"likeCount\"");
            self.measure(server, scenario, connections, target, &f.small)
                .await?;
        }
        Ok(())
    }

    /// Issue 17's target: explore's first page and a search within 1.5× of the gallery's first
    /// page rate (at most a third slower).
    pub(super) fn check_explore(&mut self) {
        for &c in &self.options.connections.clone() {
            let Some(gallery) = self.report.row(GALLERY_FIRST, c).map(|row| row.rate) else {
                continue;
            };
            for scenario in [EXPLORE_FIRST, EXPLORE_SEARCH] {
                let Some(rate) = self.report.row(scenario, c).map(|row| row.rate) else {
                    continue;
                };
                self.report.check(
                    &format!(
                        "{scenario} within 1.5× of the gallery's first page rate at {c} connections"
                    ),
                    format!(
                        "{rate:.0} vs {gallery:.0} req/s = {:.2}× slower",
                        gallery / rate
                    ),
                    rate * 1.5 >= gallery,
                );
            }
        }
    }
}
