//! The board editor's two hot calls on a full (500-item) board — opening it and dragging one
//! item — compared with the gallery's first page of the same run.

use serde_json::json;

use super::{Bench, Fixtures, GALLERY_FIRST};
use crate::load::Target;
use crate::server::Server;

const BOARD_ITEMS: &str = "board items of a 500-item board (GET /board-items/board/:id)";
const BOARD_DRAG: &str = "move one item of a 500-item board (PATCH /board-items/:id)";

impl Bench<'_> {
    /// The board scenarios at `connections` connections, as the web client's editor calls them.
    pub(super) async fn boards(
        &mut self,
        server: &Server,
        f: &Fixtures,
        connections: usize,
    ) -> anyhow::Result<()> {
        let open = Target::get(format!("/api/v1/board-items/board/{}", f.board))
            .containing("\"public_url\"");
        self.measure(server, BOARD_ITEMS, connections, open, &f.small)
            .await?;
        let drag = Target::patch(
            format!("/api/v1/board-items/{}", f.board_item),
            &json!({"positionX": 812.5, "positionY": 300.25}),
        )
        .containing("\"positionX\":812.5");
        self.measure(server, BOARD_DRAG, connections, drag, &f.small)
            .await
    }

    /// Issue 18's target: each board call within 2× of the gallery's first page cost (at most
    /// half its rate).
    pub(super) fn check_boards(&mut self) {
        for &c in &self.options.connections.clone() {
            let Some(gallery) = self.report.row(GALLERY_FIRST, c).map(|row| row.rate) else {
                continue;
            };
            for scenario in [BOARD_ITEMS, BOARD_DRAG] {
                let Some(rate) = self.report.row(scenario, c).map(|row| row.rate) else {
                    continue;
                };
                self.report.check(
                    &format!(
                        "{scenario} within 2× of the gallery's first page cost at {c} connections"
                    ),
                    format!(
                        "{rate:.0} vs {gallery:.0} req/s = {:.2}× the cost",
                        gallery / rate
                    ),
                    rate * 2.0 >= gallery,
                );
            }
        }
    }
}
