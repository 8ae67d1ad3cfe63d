% rebase('base.tpl', title=_('IVR flows'), back_path='/admin/flows')
% include('admin_nav.tpl')
<h1>{{_('IVR flows')}}</h1>
<p class="hint">{{_('A flow is what a caller hears and presses: menus, announcements, time checks, transfers. Point a DID at it with the target flow:ID.')}}</p>
% if error:
<p class="error" role="alert" id="flow-new-error">{{error}}</p>
% end
% if ctx.can('site.edit'):
<form method="get" action="/admin/flows/new" class="filters" id="new-flow">
<label>{{_('Flow ID')}} <input name="id" id="new-flow-id" required></label>
<label>{{_('Name')}} <input name="name" id="new-flow-name"></label>
<button type="submit" id="new-flow-create">{{_('New flow')}}</button>
</form>
% end
<table id="flows">
<thead><tr><th>{{_('Flow ID')}}</th><th>{{_('Name')}}</th><th>{{_('Nodes')}}</th><th>{{_('Active version')}}</th><th>{{_('DIDs')}}</th></tr></thead>
<tbody>
% for r in rows:
<tr data-flow="{{r['id']}}"><td><a href="/admin/flows/{{r['id']}}">{{r['id']}}</a></td><td>{{r['name']}}</td><td>{{r['nodes']}}</td><td>{{r['version'] or ''}}</td><td>{{', '.join(r['dids'])}}</td></tr>
% end
</tbody>
</table>
