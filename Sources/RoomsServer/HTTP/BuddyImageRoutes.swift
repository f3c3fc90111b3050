import Foundation
import Hummingbird

/// `GET /static/img/buddy/{flags}/{imageid}/...` (rest-api §8). Images arrive through the channeling `Status`
/// (buddy image issue); until a session stores one every id is unknown.
struct BuddyImageRoutes: Sendable {
    func serve(_ request: Request, imageId: String) -> Response {
        Reply.text(.notFound, "Unknown image")
    }
}
