% rebase('base.tpl', title=_('Conference rooms'), back_path='/admin/rooms')
% include('admin_nav.tpl')
<h1>{{_('Conference rooms')}} ({{len(rooms)}})</h1>
<p class="hint">{{_('Callers dial the room number (6000-6099), type its PIN, then #. A DID sends callers to a room with the target conference:NUMBER. PINs are stored as hashes: a PIN is shown only once, when the box generates it.')}}</p>
% include('admin_applied.tpl', applied=applied)
% include('admin_refused.tpl', refused=refused)
% if pins:
<h2>{{_('New PINs (shown only now; tell them to the participants)')}}</h2>
<table id="new-pins"><tbody>
% for room, pin in pins.items():
<tr><td>{{room}}</td><td><code class="secret" id="pin-{{room}}">{{pin}}</code></td></tr>
% end
</tbody></table>
% end
% if ctx.can('site.edit'):
<p><a class="button" href="/admin/rooms/new" id="add">{{_('Add')}}: {{_('Conference room')}}</a></p>
% end
<table id="rows">
<thead><tr><th>{{_('Number')}}</th><th>{{_('Name')}}</th><th>{{_('PIN')}}</th><th></th></tr></thead>
<tbody>
% for r in rooms:
<tr data-key="{{r['number']}}">
<td>{{r['number']}}</td><td>{{r['name']}}</td>
<td>{{_('PIN set') if r.get('pin_hash') else _('no PIN')}}</td>
<td>
% if ctx.can('site.edit'):
<a href="/admin/rooms/{{r['number']}}/edit" class="edit">{{_('Edit')}}</a>
<form method="post" action="/admin/rooms/{{r['number']}}/pin" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button class="new-pin" data-confirm="{{_('Give this room a new PIN? The old one stops working.')}}">{{_('New PIN')}}</button>
</form>
<form method="post" action="/admin/rooms/{{r['number']}}/delete" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button class="danger" data-confirm="{{_('Delete this entry?')}}">{{_('Delete')}}</button>
</form>
% end
</td>
</tr>
% end
</tbody>
</table>
